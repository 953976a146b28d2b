#!/usr/bin/env python3
"""Builds the local cluster's container images from files on this machine and pushes them to a
registry over the OCI distribution HTTP API: no Docker, no daemon, the standard library only.

    build.py --registry 10.245.1.1:5000 --cache ~/.cache/berth/images

Images (all under berth/ in the registry; tags follow the host's versions):
    berth/pause:3.10        the pod sandbox: a static build of pause.c
    berth/busybox:1.35      Debian's static busybox; httpd serves /www on :8080 by default
    berth/python:3.11       busybox + the host's python3 with its standard library and shared libraries
    berth/node:20           busybox + the host's node binary and its shared libraries
    berth/hello:1           python + hello.py: the example web app (GREETING, logs each request)

Layers are built reproducibly (owner root, mtime 0, sorted entries, gzip without a timestamp) and
cached under --cache by a hash of their content, so a warm run only hashes its inputs and asks the
registry which blobs it already has. Prints one line per image: its reference and digest."""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Layer:
    """A layer as a list of entries (image path -> host file, bytes, directory or symlink)."""

    def __init__(self, name):
        self.name = name
        self.entries = {}  # image path -> (kind, value, mode)

    def dir(self, path, mode=0o755):
        self.entries.setdefault(path.strip("/"), ("dir", None, mode))

    def file(self, path, host_path, mode=None):
        st = os.stat(host_path)
        self.entries[path.strip("/")] = ("file", host_path, mode if mode is not None else st.st_mode & 0o7777)

    def data(self, path, content, mode=0o644):
        self.entries[path.strip("/")] = ("data", content.encode() if isinstance(content, str) else content, mode)

    def link(self, path, target):
        self.entries[path.strip("/")] = ("link", target, 0o777)

    def tree(self, image_dir, host_dir, skip=()):
        """Copies a host directory, leaving out entries whose path relative to host_dir matches skip."""
        for root, dirs, files in os.walk(host_dir):
            rel_root = os.path.relpath(root, host_dir)
            dirs[:] = [d for d in dirs if not any(re.fullmatch(s, os.path.normpath(os.path.join(rel_root, d))) for s in skip)]
            for n in files:
                full = os.path.join(root, n)
                rel = os.path.normpath(os.path.join(rel_root, n))
                if any(re.fullmatch(s, rel) for s in skip):
                    continue
                target = os.path.join(image_dir, rel)
                if os.path.islink(full):
                    self.link(target, os.readlink(full))
                else:
                    self.file(target, full)

    def with_parents(self):
        for p in list(self.entries):
            parts = p.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                self.dir("/".join(parts[:i]))
        return sorted(self.entries.items())

    def key(self):
        """The content hash that names this layer in the cache."""
        h = hashlib.sha256()
        for path, (kind, value, mode) in self.with_parents():
            if kind == "file":
                value = sha256_file(value)
            elif kind == "data":
                value = hashlib.sha256(value).hexdigest()
            h.update(json.dumps([path, kind, value, mode]).encode())
        return h.hexdigest()

    def tar(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for path, (kind, value, mode) in self.with_parents():
                ti = tarfile.TarInfo(path)
                ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = mode, 0, 0, 0, "", ""
                if kind == "dir":
                    ti.type = tarfile.DIRTYPE
                    t.addfile(ti)
                elif kind == "link":
                    ti.type, ti.linkname = tarfile.SYMTYPE, value
                    t.addfile(ti)
                else:
                    content = value if kind == "data" else open(value, "rb").read()
                    ti.size = len(content)
                    t.addfile(ti, io.BytesIO(content))
        return buf.getvalue()


class Cache:
    """Compressed layer blobs by digest, and layer key -> (digest, diff_id, size)."""

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs"), exist_ok=True)
        os.makedirs(os.path.join(root, "layers"), exist_ok=True)

    def blob_path(self, digest):
        return os.path.join(self.root, "blobs", digest.replace(":", "-"))

    def layer(self, layer):
        key = layer.key()
        index = os.path.join(self.root, "layers", key + ".json")
        if os.path.exists(index):
            meta = json.load(open(index))
            if os.path.exists(self.blob_path(meta["digest"])):
                return meta
        raw = layer.tar()
        gz = gzip.compress(raw, compresslevel=1, mtime=0)
        meta = {"digest": "sha256:" + hashlib.sha256(gz).hexdigest(), "diff_id": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(gz)}
        write_atomic(self.blob_path(meta["digest"]), gz)
        write_atomic(index, json.dumps(meta).encode())
        print(f"  built layer {layer.name}: {len(raw) / 1e6:.1f} MB ({len(gz) / 1e6:.1f} MB gzipped)", file=sys.stderr)
        return meta


def write_atomic(path, content):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, path)


class Registry:
    """Just enough of the distribution API: blob existence and monolithic uploads, manifest puts."""

    def __init__(self, host):
        self.base = f"http://{host}"

    def _call(self, method, url, data=None, headers=None):
        req = urllib.request.Request(url if url.startswith("http") else self.base + url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers
        except urllib.error.HTTPError as e:
            if method == "HEAD" and e.code == 404:
                return 404, e.headers
            raise RuntimeError(f"{method} {url}: {e.code} {e.read()[:300]!r}") from e

    def has_blob(self, repo, digest):
        return self._call("HEAD", f"/v2/{repo}/blobs/{digest}")[0] == 200

    def put_blob(self, repo, digest, content):
        if self.has_blob(repo, digest):
            return
        _, headers = self._call("POST", f"/v2/{repo}/blobs/uploads/", data=b"")
        loc = headers["Location"]
        sep = "&" if "?" in loc else "?"
        self._call("PUT", f"{loc}{sep}digest={digest}", data=content, headers={"Content-Type": "application/octet-stream"})

    def manifest_digest(self, repo, tag):
        status, headers = self._call("HEAD", f"/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        return headers.get("Docker-Content-Digest") if status == 200 else None

    def put_manifest(self, repo, tag, content):
        self._call("PUT", f"/v2/{repo}/manifests/{tag}", data=content, headers={"Content-Type": OCI_MANIFEST})


def image(cache, registry, repo, tag, layers, config):
    """Builds (from the cache when it can) and pushes one image; returns its manifest digest."""
    metas = [cache.layer(layer) for layer in layers]
    cfg = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Env": [PATH_ENV] + config.get("env", []), "WorkingDir": config.get("workdir", "/"), **config.get("run", {})},
        "rootfs": {"type": "layers", "diff_ids": [m["diff_id"] for m in metas]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"hack/cluster/images/build.py: {layer.name}"} for layer in layers],
    }, sort_keys=True).encode()
    cfg_digest = "sha256:" + hashlib.sha256(cfg).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cfg_digest, "size": len(cfg)},
        "layers": [{"mediaType": OCI_LAYER, "digest": m["digest"], "size": m["size"]} for m in metas],
    }, sort_keys=True).encode()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    if registry.manifest_digest(repo, tag) != digest:
        for m in metas:
            registry.put_blob(repo, m["digest"], open(cache.blob_path(m["digest"]), "rb").read())
        registry.put_blob(repo, cfg_digest, cfg)
        registry.put_manifest(repo, tag, manifest)
    return digest


def shared_libraries(binaries):
    """Every shared library (and the dynamic loader) that ldd names for these binaries."""
    out = subprocess.run(["ldd", *binaries], capture_output=True, text=True).stdout
    return sorted(set(re.findall(r"(/\S+\.so(?:\.[\w.]+)?)\s+\(0x", out)))


def add_libraries(layer, binaries):
    for lib in shared_libraries(binaries):
        layer.file(lib, os.path.realpath(lib), 0o755)


def base_layer():
    """Static busybox with its applets as symlinks, a passwd/group, and /www for httpd."""
    layer = Layer("busybox")
    for d in ("bin", "etc", "proc", "sys", "dev", "root", "var", "www"):
        layer.dir(d)
    layer.dir("tmp", 0o1777)
    layer.file("bin/busybox", "/bin/busybox", 0o755)
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            layer.link(f"bin/{a}", "busybox")
    layer.data("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    layer.data("etc/group", "root:x:0:\nnogroup:x:65534:\n")
    layer.data("etc/nsswitch.conf", "hosts: files dns\n")
    layer.data("www/index.html", "hello from berth busybox httpd\n")
    return layer


def pause_layer(cache):
    """pause.c, compiled once per version of its source."""
    src = os.path.join(HERE, "pause.c")
    out = os.path.join(cache.root, "pause-" + sha256_file(src)[:16])
    if not os.path.exists(out):
        subprocess.run(["gcc", "-Os", "-static", "-o", out + ".tmp", src], check=True)
        subprocess.run(["strip", out + ".tmp"], check=True)
        os.replace(out + ".tmp", out)
    layer = Layer("pause")
    layer.file("pause", out, 0o755)
    return layer


def python_layer(python):
    """The interpreter, its standard library (without tests, tk, idle, ensurepip, ...) and libraries."""
    real = os.path.realpath(python)
    version = subprocess.run([real, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, check=True).stdout.strip()
    stdlib = f"/usr/lib/python{version}"
    layer = Layer("python")
    layer.file(f"usr/bin/python{version}", real, 0o755)
    layer.link("usr/bin/python3", f"python{version}")
    layer.link("usr/bin/python", "python3")
    skip = [r"test", r"idlelib", r"tkinter", r"turtledemo", r"ensurepip", r"config-.*", r"lib2to3", r"pydoc_data",
            r"distutils", r"site-packages", r"dist-packages", r".*/__pycache__/.*\.opt-[12]\.pyc"]
    layer.tree(stdlib.lstrip("/"), stdlib, skip)
    dynload = os.path.join(stdlib, "lib-dynload")
    add_libraries(layer, [real] + [os.path.join(dynload, n) for n in sorted(os.listdir(dynload)) if n.endswith(".so")])
    return layer, version


def node_layer(node):
    real = os.path.realpath(node)
    major = subprocess.run([real, "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True, check=True).stdout.strip()
    layer = Layer("node")
    layer.file("usr/bin/node", real, 0o755)
    add_libraries(layer, [real])
    return layer, major


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--registry", required=True, help="host:port of the registry (plain HTTP)")
    p.add_argument("--cache", required=True, help="directory for cached layers")
    p.add_argument("--python", default="/usr/bin/python3", help="the interpreter to package (the distribution's, not a virtualenv's)")
    p.add_argument("--node", default=shutil.which("node") or "/usr/bin/node", help="the node binary to package")
    a = p.parse_args()

    cache, registry = Cache(a.cache), Registry(a.registry)
    busybox = base_layer()
    bb_version = re.search(r"v(\d+\.\d+)", subprocess.run(["/bin/busybox"], capture_output=True, text=True).stdout).group(1)
    python, py_version = python_layer(a.python)
    node, node_major = node_layer(a.node)
    hello = Layer("hello")
    hello.file("app/hello.py", os.path.join(HERE, "hello.py"), 0o644)
    images = [
        ("berth/pause", "3.10", [pause_layer(cache)], {"run": {"Entrypoint": ["/pause"]}}),
        ("berth/busybox", bb_version, [busybox],
         {"run": {"Cmd": ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"], "ExposedPorts": {"8080/tcp": {}}}}),
        ("berth/python", py_version, [busybox, python], {"env": ["PYTHONUNBUFFERED=1"], "run": {"Cmd": ["python3"]}}),
        ("berth/node", node_major, [busybox, node], {"run": {"Cmd": ["node"]}}),
        ("berth/hello", "1", [busybox, python, hello],
         {"env": ["PYTHONUNBUFFERED=1", "PORT=8080"], "workdir": "/app",
          "run": {"Cmd": ["python3", "/app/hello.py"], "ExposedPorts": {"8080/tcp": {}}}}),
    ]
    for repo, tag, layers, config in images:
        print(f"{a.registry}/{repo}:{tag} {image(cache, registry, repo, tag, layers, config)}")


if __name__ == "__main__":
    main()
