"""`make deb`: debhelper builds logship, liblogship0, liblogship-dev and
python3-logship from a copy of this tree; dpkg-deb lists what each installs, the maintainer
scripts create the user and data directory and enable and start the
service, and lintian finds no error."""
import glob
import os
import subprocess

import pytest

from conftest import ROOT, make_env

EXPECT = {
    "logship": ["./usr/sbin/logshipd", "./usr/bin/logship", "./lib/systemd/system/logshipd.service",
                "./usr/lib/sysusers.d/logship.conf", "./etc/logship/logshipd.conf",
                "./usr/share/man/man8/logshipd.8.gz", "./usr/share/man/man1/logship.1.gz",
                "./usr/share/doc/logship/copyright"],
    "liblogship0": ["./usr/lib/*/liblogship.so.0.1.0", "./usr/lib/*/liblogship.so.0"],
    "python3-logship": ["./usr/lib/python3/dist-packages/logship/__init__.py",
                        "./usr/lib/python3/dist-packages/logship/_logship.cpython-*.so"],
    "liblogship-dev": ["./usr/include/logship.h", "./usr/lib/*/liblogship.a",
                       "./usr/lib/*/liblogship.so", "./usr/lib/*/pkgconfig/liblogship.pc",
                       "./usr/share/man/man3/liblogship.3.gz"],
}


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    build = os.environ.get("LOGSHIP_PKG_BUILD", os.path.join(ROOT, "build-pkgtest"))
    r = subprocess.run(["make", "-C", ROOT, "deb", f"BUILD={build}", "JOBS=2"],
                       capture_output=True, text=True, timeout=1800, env=make_env())
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    out = {}
    for name in EXPECT:
        found = glob.glob(os.path.join(build, "deb", f"{name}_*.deb"))
        assert len(found) == 1, (name, found)
        out[name] = found[0]
    out["changes"] = glob.glob(os.path.join(build, "deb", "*.changes"))[0]
    return out


def contents(deb):
    r = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True)
    return [ln.split()[5] for ln in r.stdout.splitlines()]


def test_packages_list_their_files(debs):
    import fnmatch
    for name, want in EXPECT.items():
        files = contents(debs[name])
        for pattern in want:
            assert any(fnmatch.fnmatch(f, pattern) for f in files), (name, pattern, files)
    # nothing of the library's development files in the runtime packages
    assert not any(f.endswith((".a", ".h", ".pc")) for f in contents(debs["logship"]))
    assert not any(f.endswith((".a", ".h", ".pc")) for f in contents(debs["liblogship0"]))


def test_maintainer_scripts_and_conffiles(debs, tmp_path):
    ctl = tmp_path / "ctl"
    subprocess.run(["dpkg-deb", "-e", debs["logship"], str(ctl)], check=True)
    post = (ctl / "postinst").read_text()
    assert "adduser --system --group --home /var/lib/logship" in post
    assert "install -d -o logship -g logship -m 0750 /var/lib/logship" in post
    assert "deb-systemd-helper enable 'logshipd.service'" in post
    assert "deb-systemd-invoke $_dh_action 'logshipd.service'" in post
    assert (ctl / "conffiles").read_text().split() == ["/etc/logship/logshipd.conf"]
    import re
    want = re.search(r'#define LOGSHIP_VERSION "(.*)"',
                     open(os.path.join(ROOT, "src/common/version.h")).read()).group(1)
    for name in EXPECT:
        ver = subprocess.run(["dpkg-deb", "-f", debs[name], "Version"], capture_output=True,
                             text=True, check=True).stdout.strip()
        assert ver == want, (name, ver)
    dep = subprocess.run(["dpkg-deb", "-f", debs["logship"], "Depends"], capture_output=True,
                         text=True, check=True).stdout
    assert "adduser" in dep and "libuv1" in dep and "libwebsockets" in dep
    dep = subprocess.run(["dpkg-deb", "-f", debs["python3-logship"], "Depends"],
                         capture_output=True, text=True, check=True).stdout
    assert f"liblogship0 (= {want})" in dep and "python3" in dep


def test_python_package_imports_from_the_debs(debs, tmp_path, server):
    """The extension from python3-logship, with liblogship0's library,
    unpacked side by side: it loads and delivers."""
    root = tmp_path / "root"
    for name in ("liblogship0", "python3-logship"):
        subprocess.run(["dpkg-deb", "-x", debs[name], str(root)], check=True)
    libdir = os.path.dirname(glob.glob(str(root / "usr/lib/*/liblogship.so.0"))[0])
    env = dict(os.environ, PYTHONPATH=str(root / "usr/lib/python3/dist-packages"),
               LD_LIBRARY_PATH=libdir)
    code = ("import logging, sys, logship; assert logship.__file__.startswith(sys.argv[2])\n"
            "h = logship.LogshipHandler(sys.argv[1]); l = logging.getLogger('deb')\n"
            "l.addHandler(h); l.warning('from the deb'); assert h.flush(30)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code, f"tcp://127.0.0.1:{server.ports['tcp']}",
                        str(root)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [x["msg"] for x in server.logs()] == ["from the deb"]


def test_lintian_finds_no_error(debs):
    r = subprocess.run(["lintian", "--tag-display-limit", "0", debs["changes"]],
                       capture_output=True, text=True, timeout=600)
    errors = [ln for ln in r.stdout.splitlines() if ln.startswith("E:")]
    assert not errors, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr
