#!/usr/bin/python3
"""Builds the corpus of bench/store_bench.sh: real log lines of this
machine (the files under /var/log that are text, and journalctl's output)
plus generated lines shaped like loghub's HDFS, Linux (syslog), OpenSSH
and Apache samples (https://github.com/logpai/loghub; those files are not
downloadable here), shuffled in chunks and replicated to at least
--mb megabytes. Exactly 100 lines hold the rare block id
blk_-4242424242424242424. Output: one line per record, plain text."""
import argparse, glob, gzip, os, random, subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--mb", type=int, default=420)
ap.add_argument("--out", required=True)
a = ap.parse_args()
rng = random.Random(17)

real = []
for p in glob.glob("/var/log/**/*", recursive=True):
    try:
        if os.path.isfile(p) and not p.endswith((".gz", "wtmp", "btmp", "lastlog", "faillog")) \
                and "/journal/" not in p:
            with open(p, "rb") as f:
                data = f.read(20 << 20)
            if b"\0" not in data[:4096]:
                real += [l for l in data.decode("utf-8", "replace").splitlines() if l.strip()]
    except OSError:
        pass
try:
    j = subprocess.run(["journalctl", "--no-pager", "-q", "-n", "200000"], capture_output=True,
                       text=True, timeout=60).stdout
    real += [l for l in j.splitlines() if l.strip()]
except Exception:
    pass

def ip():
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"

def blk():
    return f"blk_{rng.choice(['', '-'])}{rng.randrange(10**18, 10**19)}"

def hdfs():
    t = f"0811{rng.randrange(10, 12)} {rng.randrange(0, 235959):06d} {rng.randrange(1, 40000)}"
    return rng.choice([
        f"{t} INFO dfs.DataNode$DataXceiver: Receiving block {blk()} src: /{ip()}:{rng.randrange(40000, 60000)} dest: /{ip()}:50010",
        f"{t} INFO dfs.DataNode$PacketResponder: PacketResponder {rng.randrange(3)} for block {blk()} terminating",
        f"{t} INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: {ip()}:50010 is added to {blk()} size {rng.randrange(1, 67108864)}",
        f"{t} INFO dfs.DataNode$DataXceiver: {ip()}:50010 Served block {blk()} to /{ip()}",
        f"{t} WARN dfs.DataNode$DataXceiver: {ip()}:50010:Got exception while serving {blk()} to /{ip()}:",
    ])

def linux():
    t = f"Jun {rng.randrange(1, 30):2d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} combo"
    return rng.choice([
        f"{t} sshd(pam_unix)[{rng.randrange(1000, 30000)}]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={ip()}  user=root",
        f"{t} su(pam_unix)[{rng.randrange(1000, 30000)}]: session opened for user cyrus by (uid=0)",
        f"{t} kernel: Memory: {rng.randrange(100000, 200000)}k/{rng.randrange(200000, 300000)}k available",
        f"{t} ftpd[{rng.randrange(1000, 30000)}]: connection from {ip()} () at Sun Jul 17 {rng.randrange(24):02d}:{rng.randrange(60):02d}:12 2005",
        f"{t} logrotate: ALERT exited abnormally with [1]",
    ])

def openssh():
    t = f"Dec {rng.randrange(1, 31):2d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} LabSZ sshd[{rng.randrange(20000, 30000)}]:"
    return rng.choice([
        f"{t} Failed password for invalid user {rng.choice(['admin', 'test', 'oracle', 'git'])} from {ip()} port {rng.randrange(1024, 65535)} ssh2",
        f"{t} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip()}",
        f"{t} Received disconnect from {ip()}: 11: Bye Bye [preauth]",
        f"{t} reverse mapping checking getaddrinfo for {ip()}.static.example.net [{ip()}] failed - POSSIBLE BREAK-IN ATTEMPT!",
        f"{t} Accepted password for fztu from {ip()} port {rng.randrange(1024, 65535)} ssh2",
    ])

def apache():
    t = f"[Sun Dec {rng.randrange(1, 31):02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} 2005]"
    return rng.choice([
        f"{t} [notice] jk2_init() Found child {rng.randrange(1000, 30000)} in scoreboard slot {rng.randrange(10)}",
        f"{t} [error] mod_jk child workerEnv in error state {rng.randrange(10)}",
        f"{t} [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
        f"{t} [error] [client {ip()}] Directory index forbidden by rule: /var/www/html/",
    ])

gens = [hdfs, linux, openssh, apache]
base = real[:]
for _ in range(max(200000, 2 * len(real))):
    base.append(rng.choice(gens)())
rng.shuffle(base)
want = a.mb << 20
rare_at = set(rng.sample(range(2_000_000), 100))
n = 0
size = 0
with open(a.out, "w", encoding="utf-8", errors="replace") as f:
    while size < want:
        for l in base:
            if n in rare_at:
                l = l + " blk_-4242424242424242424"
            l = l.replace("\r", " ")
            f.write(l + "\n")
            size += len(l.encode("utf-8", "replace")) + 1
            n += 1
            if size >= want:
                break
print(f"{n} lines, {size} bytes, {len(real)} real lines (of {len(base)} distinct)")
