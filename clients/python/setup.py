"""setup.py - builds logship._logship, the C extension on liblogship.

liblogship is found, in this order: the usual CFLAGS / LDFLAGS (and
LD_LIBRARY_PATH or the loader's cache at run time); pkg-config's
liblogship.pc (PKG_CONFIG_PATH for an install under another prefix, as
`make install` leaves it); else the compiler's default paths. Set
LOGSHIP_RPATH=1 to record pkg-config's library directory in the extension,
so it loads without LD_LIBRARY_PATH.
"""
import os
import shlex
import subprocess

from setuptools import Extension, setup


def pkg_config(*args):
    try:
        r = subprocess.run(["pkg-config", *args, "liblogship"], capture_output=True, text=True)
    except OSError:
        return None
    return shlex.split(r.stdout) if r.returncode == 0 else None


cflags = pkg_config("--cflags") or []
libs = pkg_config("--libs") or ["-llogship"]
include_dirs = [f[2:] for f in cflags if f.startswith("-I")]
library_dirs = [f[2:] for f in libs if f.startswith("-L")]
libraries = [f[2:] for f in libs if f.startswith("-l")] or ["logship"]
rpath = library_dirs if os.environ.get("LOGSHIP_RPATH") == "1" else []

setup(
    ext_modules=[
        Extension(
            "logship._logship",
            sources=["src/_logship.c"],
            include_dirs=include_dirs,
            library_dirs=library_dirs,
            libraries=libraries,
            runtime_library_dirs=rpath,
            extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
        )
    ]
)
