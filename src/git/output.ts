// The push's output as Deis' builder printed it: "-----> " steps, 7-space indented details,
// " !     " warnings. Each line starts with ESC[1G (cursor to column 1), so on a terminal the
// line overwrites the "remote: " prefix git adds to hook output (deis/deis builder's
// gitreceive, strip_remote_prefix).
const COLUMN_1 = "\u001b[1G";

export const step = (text: string) => `${COLUMN_1}-----> ${text}`;
export const indent = (text: string) => (text ? `${COLUMN_1}       ${text}` : COLUMN_1);
export const warn = (text: string) => `${COLUMN_1} !     ${text}`;
