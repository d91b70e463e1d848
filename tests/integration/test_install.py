"""`make install` (PREFIX, DESTDIR): the files it installs, examples/hello.c
built with pkg-config against the installed tree (shared and static) and
run against the real logshipd, the systemd unit checked by
`systemd-analyze verify`, and every man page rendered by man(1)."""
import glob
import os
import re
import subprocess

from conftest import ROOT


def staged(inst, *parts):
    return os.path.join(inst.destdir, *parts)


def tree_version():
    return re.search(r'#define LOGSHIP_VERSION "(.*)"',
                     open(os.path.join(ROOT, "src/common/version.h")).read()).group(1)


def test_installed_files(installed):
    lib = installed.staged_libdir
    ver = tree_version()
    # one version: the library's file name and pkg-config's are the tree's
    assert os.path.isfile(os.path.join(lib, f"liblogship.so.{ver}"))
    pc = subprocess.run(["pkg-config", "--modversion", "liblogship"], capture_output=True,
                        text=True, env=installed.staged_env())
    assert pc.stdout.strip() == ver, pc.stderr
    for path in [staged(installed, "usr/sbin/logshipd"), staged(installed, "usr/bin/logship"),
                 os.path.join(lib, "liblogship.so.0.1.0"), os.path.join(lib, "liblogship.a"),
                 os.path.join(lib, "pkgconfig/liblogship.pc"),
                 staged(installed, "usr/include/logship.h"),
                 staged(installed, "usr/share/man/man8/logshipd.8"),
                 staged(installed, "usr/share/man/man1/logship.1"),
                 staged(installed, "usr/share/man/man3/liblogship.3"),
                 staged(installed, "usr/lib/systemd/system/logshipd.service"),
                 staged(installed, "usr/lib/sysusers.d/logship.conf"),
                 staged(installed, "etc/logship/logshipd.conf")]:
        assert os.path.isfile(path), path
    # the versioned soname, and the links a build and the loader use
    assert os.readlink(os.path.join(lib, "liblogship.so.0")) == "liblogship.so.0.1.0"
    assert os.readlink(os.path.join(lib, "liblogship.so")) == "liblogship.so.0"
    dyn = subprocess.run(["readelf", "-d", os.path.join(lib, "liblogship.so.0.1.0")],
                         capture_output=True, text=True).stdout
    assert "Library soname: [liblogship.so.0]" in dyn
    # the unit starts the installed binary with the installed config
    unit = open(staged(installed, "usr/lib/systemd/system/logshipd.service")).read()
    assert "ExecStart=/usr/sbin/logshipd --config /etc/logship/logshipd.conf" in unit
    r = subprocess.run([staged(installed, "usr/sbin/logshipd"), "--check-config", "--config",
                        staged(installed, "etc/logship/logshipd.conf")],
                       capture_output=True, text=True, env=installed.staged_env())
    assert r.returncode == 0, r.stderr


def build_hello(installed, tmp_path, static):
    env = installed.staged_env()
    pc = ["pkg-config", "--cflags", "--libs"] + (["--static"] if static else []) + ["liblogship"]
    flags = subprocess.run(pc, capture_output=True, text=True, env=env, check=True).stdout.split()
    assert f"-I{installed.destdir}/usr/include" in flags
    out = str(tmp_path / ("hello_static" if static else "hello"))
    cmd = ["cc", "-Wall", "-Werror", os.path.join(ROOT, "examples", "hello.c"), "-o", out]
    if static:  # the archive itself, so the shared library can not be picked
        cmd += [f for f in flags if f.startswith("-I")]
        cmd += [os.path.join(installed.staged_libdir, "liblogship.a")]
        cmd += [f for f in flags if not f.startswith(("-I", "-L", "-llogship"))]
    else:
        cmd += flags
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return out, env


def test_hello_against_the_installed_tree(installed, server, tmp_path):
    for static in (False, True):
        exe, env = build_hello(installed, tmp_path, static)
        deps = subprocess.run(["ldd", exe], capture_output=True, text=True, env=env).stdout
        if static:
            assert "liblogship" not in deps
        else:
            assert f"{installed.staged_libdir}/liblogship.so.0" in deps, deps
        url = f"tcp://127.0.0.1:{server.ports['tcp']}"
        r = subprocess.run([exe, url], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "hello from liblogship" in r.stderr  # the echo
    recs = server.logs(app="hello", limit=100)
    msgs = [x["msg"] for x in recs["records"]] if isinstance(recs, dict) else \
        [x["msg"] for x in recs]
    assert msgs.count("hello from liblogship") == 2
    assert msgs.count("request done") == 2


def test_unit_verifies(installed):
    """systemd-analyze verify on the unit as installed under a real prefix
    (its ExecStart exists there; Documentation= needs the man page)."""
    unit = os.path.join(installed.prefix, "lib/systemd/system/logshipd.service")
    env = dict(os.environ, MANPATH=os.path.join(installed.prefix, "share/man"))
    r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    text = open(unit).read()
    for opt in ("Type=notify", "User=logship", "StateDirectory=logship", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID",
                f"ExecStart={installed.prefix}/sbin/logshipd --config "
                f"{installed.prefix}/etc/logship/logshipd.conf --data ${{STATE_DIRECTORY}}"):
        assert opt in text, opt


def plain(text):
    """man's output without its overstrike bold and underline."""
    return re.sub(".\x08", "", text)


def test_man_pages_render(installed):
    pages = sorted(glob.glob(os.path.join(installed.prefix, "share/man/man*/*")))
    assert [os.path.basename(p) for p in pages] == ["logship.1", "liblogship.3", "logshipd.8"]
    for page in pages:
        r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"),
                           timeout=60)
        assert r.returncode == 0 and r.stderr == "", (page, r.stderr)
        out = plain(r.stdout)
        name = os.path.basename(page).split(".")[0]
        assert out.lstrip().startswith(name.upper() + "("), r.stdout[:200]
        assert "\nNAME\n" in out and "\nSEE ALSO\n" in out, out[:300]
    # logshipd(8) lists the options of logshipd --help, every one
    text = plain(subprocess.run(["man", "-l", pages[2]], capture_output=True, text=True,
                                env=dict(os.environ, MANWIDTH="200")).stdout)
    helptext = subprocess.run([os.path.join(installed.prefix, "sbin/logshipd"), "--help"],
                              capture_output=True, text=True).stdout
    flags = {ln.split()[0] for ln in helptext.splitlines() if ln.startswith("  --")}
    assert len(flags) > 30
    for flag in flags:
        assert flag in text, flag
