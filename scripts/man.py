#!/usr/bin/python3
"""man.py - renders a man page's one source, docs/man/NAME.SECTION.md, as
roff (man(7)); run by the build (cmake/man.cmake).

    man.py SOURCE OUT VERSION [--help NAME=COMMAND...]

The source is a small Markdown: `# name(S) -- summary` first, `## SECTION`
and `### Subsection` headings, paragraphs, `- ` lists, ``` blocks, a term
line followed by `: definition` lines, and **bold**, `code`, *italic*
inline. A line `@help NAME` is replaced by the options that COMMAND prints
for --help (the option table the program itself uses, so the page never
disagrees with it): `Title:` lines become subsections and each
`  --flag VALUE   text` item (its text wrapped onto indented lines) a
tagged paragraph.
"""
import datetime
import os
import re
import subprocess
import sys


def esc(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return text


def inline(text):
    out = []
    pos = 0
    for m in re.finditer(r"\*\*(.+?)\*\*|`([^`]+)`|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + esc(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + esc(m.group(2)) + "\\fR")
        else:
            out.append("\\fI" + esc(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def line(text):
    """A roff text line: a leading . or ' would be a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def help_items(text):
    """(kind, a, b) from a --help text: ("ss", title) or ("tp", flag, text)."""
    items = []
    cur = None
    # the text column: where wrapped lines start (the most common indent)
    indents = {}
    for raw in text.splitlines():
        n = len(raw) - len(raw.lstrip(" "))
        if n >= 4 and raw.strip():
            indents[n] = indents.get(n, 0) + 1
    col = max(indents, key=indents.get) if indents else 0
    for raw in text.splitlines():
        if not raw.strip():
            cur = None
            continue
        m = re.match(r"^(\S.*):$", raw)
        if m and not raw.startswith(" "):
            items.append(["ss", m.group(1), ""])
            cur = None
            continue
        if raw.startswith("  -"):
            if col and len(raw) > col and raw[col - 1] == " " and raw[col] != " ":
                flag, rest = raw[:col].strip(), raw[col:].strip()
            else:
                flag, rest = raw.strip(), ""
            cur = ["tp", flag, rest]
            items.append(cur)
            continue
        if cur is not None and raw.startswith("   "):
            cur[2] = (cur[2] + " " + raw.strip()).strip()
    # only sections that have options
    out = []
    for i, it in enumerate(items):
        if it[0] == "ss" and not (i + 1 < len(items) and items[i + 1][0] == "tp"):
            continue
        out.append(it)
    return out


def render(src, version, helps):
    lines = src.splitlines()
    m = re.match(r"^# (\S+)\((\d)\) -- (.*)$", lines[0])
    if not m:
        sys.exit("man.py: the first line must be '# name(S) -- summary'")
    name, sect, summary = m.groups()
    date = datetime.datetime.utcfromtimestamp(
        int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or int(
            datetime.datetime.now().timestamp())).strftime("%Y-%m-%d")
    out = [f'.TH {name.upper()} {sect} "{date}" "logship {version}" "logship manual"',
           ".SH NAME", f"{esc(name)} \\- {esc(summary)}"]
    i = 1
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.extend(line(inline(p)) for p in para)
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith("```"):
            flush()
            out += [".PP", ".RS 4", ".nf"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line(esc(lines[i])))
                i += 1
            out += [".fi", ".RE"]
        elif ln.startswith("## "):
            flush()
            out.append(".SH " + esc(ln[3:].upper()))
        elif ln.startswith("### "):
            flush()
            out.append(".SS " + esc(ln[4:]))
        elif ln.startswith("@help "):
            flush()
            key = ln[6:].strip()
            if key not in helps:
                sys.exit(f"man.py: no --help given for {key}")
            for kind, a, b in help_items(helps[key]):
                if kind == "ss":
                    out.append(".SS " + esc(a))
                else:
                    out += [".TP", "\\fB" + esc(a) + "\\fR", line(esc(b))]
        elif ln.startswith("- "):
            flush()
            text = ln[2:]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                text += " " + lines[i].strip()
            out += [".IP \\(bu 2", line(inline(text))]
        elif i + 1 < len(lines) and lines[i + 1].startswith(": ") and ln.strip():
            flush()
            out += [".TP", line(inline(ln))]
            i += 1
            text = lines[i][2:]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                text += " " + lines[i].strip()
            out.append(line(inline(text)))
        elif not ln.strip():
            flush()
        else:
            para.append(ln.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    src, dst, version = argv[1:4]
    helps = {}
    rest = argv[4:]
    while rest:
        if rest[0] != "--help" or len(rest) < 2 or "=" not in rest[1]:
            sys.exit(__doc__)
        key, cmd = rest[1].split("=", 1)
        r = subprocess.run(cmd.split(" "), capture_output=True, text=True)
        helps[key] = r.stdout + r.stderr
        if not helps[key].strip():
            sys.exit(f"man.py: '{cmd}' printed nothing")
        rest = rest[2:]
    with open(src, encoding="utf-8") as f:
        text = render(f.read(), version, helps)
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main(sys.argv)
