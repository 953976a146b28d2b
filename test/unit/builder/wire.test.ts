// Request shapes around the builder: multipart bodies as the tsuru CLI sends them, and platform
// Dockerfiles a layer-appending builder can honour.
import { expect } from "chai";
import { MultipartError, parseMultipart } from "../../../src/api/tsuru/multipart.ts";
import { platformFromDockerfile } from "../../../src/builder/platform.ts";
import { BuildError } from "../../../src/builder/image.ts";

describe("builder: wire", () => {
  it("parses multipart bodies: fields, repeated fields and binary files", () => {
    const bin = Buffer.from([0x1f, 0x8b, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff]);
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="message"\r\n\r\nfirst deploy\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="tag"\r\n\r\na\r\n--XyZ\r\nContent-Disposition: form-data; name="tag"\r\n\r\nb\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="archive.tar.gz"\r\nContent-Type: application/octet-stream\r\n\r\n'),
      bin,
      Buffer.from("\r\n--XyZ--\r\n"),
    ]);
    const out = parseMultipart(body, "multipart/form-data; boundary=XyZ");
    expect(out.fields).to.deep.equal({ message: ["first deploy"], tag: ["a", "b"] });
    expect(out.files.file?.filename).to.equal("archive.tar.gz");
    expect(out.files.file?.data.equals(bin)).to.equal(true);
    expect(parseMultipart(Buffer.from("--q--\r\n"), 'multipart/form-data; boundary="q"').files).to.deep.equal({});
    expect(() => parseMultipart(body, "multipart/form-data")).to.throw(MultipartError, /boundary/);
    expect(() => parseMultipart(body.subarray(0, 120), "multipart/form-data; boundary=XyZ")).to.throw(MultipartError, /truncated/);
  });

  it("reads platform Dockerfiles for FROM, ENV, WORKDIR and CMD, refusing build steps", () => {
    expect(platformFromDockerfile("# python\nFROM 10.245.1.1:5000/berth/python:3.11\nENV A=1 B=\"two words\"\nENV C three\nWORKDIR /srv\nCMD [\"python3\", \"app.py\"]\n")).to.deep.equal({
      image: "10.245.1.1:5000/berth/python:3.11",
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "two words" },
        { name: "C", value: "three" },
      ],
      workdir: "/srv",
      command: "python3 app.py",
    });
    expect(() => platformFromDockerfile("FROM r:5000/a\nRUN make\n")).to.throw(BuildError, /\(found RUN\)/);
    expect(() => platformFromDockerfile("FROM python:3.11\n")).to.throw(BuildError, /registry host/);
    expect(() => platformFromDockerfile("ENV A=1\n")).to.throw(BuildError, /no FROM/);
    expect(() => platformFromDockerfile("FROM r:5000/a\nFROM r:5000/b\n")).to.throw(BuildError, /multi-stage/);
  });
});
