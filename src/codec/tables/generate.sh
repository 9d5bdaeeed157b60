#!/usr/bin/env bash
# Regenerates the code-page tables in this folder from the machine's glibc `iconv`, and
# cross-checks them against ICU's `uconv` when it is installed. Development time only: the
# build reads the committed outputs and never runs this script.
#
#   sbcs.rs      256-entry single-byte tables (u16 code points, 0xFFFF = no character):
#                CP037 (IBM037), CP1047 (IBM1047) and KOREAN_SBCS, the single-byte half of
#                IBM933 and IBM1364 (glibc gives both the same one; the script checks).
#   cp933.bin    the double-byte half of IBM933, and
#   cp1364.bin   of IBM1364: sorted (EBCDIC code, UTF-16 unit) pairs, both u16 big-endian,
#                4 bytes a pair. Every code 0x4040 and 0x4141..=0xFEFE is fed to iconv as
#                `0E hi lo 0F`; what decodes to one BMP character is kept if iconv encodes
#                that character back to the same code (all do at the time of writing).
#
# One-way mappings iconv also has (it writes some characters as SUB 0x3F, and a few, e.g.
# U+00B7 and U+FF5E, as a double-byte code that decodes to something else) are left out on
# purpose: ficus reports them as unmappable rather than guess.
#
# Needs: bash, iconv (Debian libc-bin with its gconv modules), python3; uconv (icu-devtools)
# optional. Usage: bash src/codec/tables/generate.sh   (writes next to itself)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v iconv >/dev/null || { echo "generate.sh: iconv not found" >&2; exit 1; }
for cs in IBM037 IBM1047 IBM933 IBM1364; do
    printf 'A' | iconv -f UTF-8 -t "$cs" >/dev/null || { echo "iconv lacks $cs" >&2; exit 1; }
done

python3 - "$here" <<'PY'
import shutil, subprocess, sys

out_dir = sys.argv[1]
NONE = 0xFFFF


def run(cmd, data):
    return subprocess.run(cmd, input=data, capture_output=True, check=False).stdout


def split_lines(utf32):
    """UTF-32BE output split at U+000A (the EBCDIC byte 0x25 we use as a separator)."""
    cps = [int.from_bytes(utf32[i:i + 4], "big") for i in range(0, len(utf32), 4)]
    lines, cur = [], []
    for c in cps:
        if c == 0x0A:
            lines.append(cur)
            cur = []
        else:
            cur.append(c)
    return lines


def sbcs(cs):
    """Each byte alone; -c drops bytes with no character, leaving an empty line."""
    table = []
    for b in range(256):
        if b in (0x0E, 0x0F) and cs in ("IBM933", "IBM1364"):
            table.append(NONE)  # SO / SI: shift bytes, not characters
            continue
        p = subprocess.run(["iconv", "-f", cs, "-t", "UTF-32BE"], input=bytes([b]),
                           capture_output=True, check=False)
        ok = p.returncode == 0 and len(p.stdout) == 4
        table.append(int.from_bytes(p.stdout, "big") if ok else NONE)
    return table


def dbcs(cs):
    codes = [0x4040] + [(hi << 8) | lo for hi in range(0x41, 0xFF) for lo in range(0x41, 0xFF)]
    data = b"".join(bytes([0x0E, c >> 8, c & 0xFF, 0x0F, 0x25]) for c in codes)
    lines = split_lines(run(["iconv", "-c", "-f", cs, "-t", "UTF-32BE"], data))
    assert len(lines) == len(codes), (cs, len(lines), len(codes))
    return {c: l[0] for c, l in zip(codes, lines) if len(l) == 1 and l[0] < 0x10000}


def encode_each(cs, chars):
    """iconv's encoding of each character alone, as a list of codes (SBCS byte or DBCS u16)."""
    data = "".join(chr(c) + "\n" for c in chars).encode("utf-8")
    out = run(["iconv", "-c", "-f", "UTF-8", "-t", cs], data)
    res, cur, dbl, i = [], [], False, 0
    while i < len(out):
        b = out[i]
        if dbl and b == 0x0F:
            dbl, i = False, i + 1
        elif dbl:
            cur.append((b << 8) | out[i + 1])
            i += 2
        elif b == 0x0E:
            dbl, i = True, i + 1
        elif b == 0x25:
            res.append(cur)
            cur, i = [], i + 1
        else:
            cur.append(b)
            i += 1
    assert len(res) == len(chars), (cs, len(res), len(chars))
    return res


def uconv_check(cs, icu, table):
    if shutil.which("uconv") is None:
        print(f"{cs}: uconv not installed, ICU cross-check skipped")
        return
    codes = sorted(table)
    data = b"".join(bytes([0x0E, c >> 8, c & 0xFF, 0x0F, 0x25]) for c in codes)
    lines = split_lines(run(["uconv", "-f", icu, "-t", "UTF-32BE", "--callback", "substitute"], data))
    diff = sum(1 for c, l in zip(codes, lines) if l != [table[c]]) + abs(len(lines) - len(codes))
    print(f"{cs}: {diff} of {len(table)} double-byte codes differ from ICU {icu}")


def rust_table(name, doc, table):
    rows = []
    for i in range(0, 256, 8):
        rows.append("    " + ", ".join(f"0x{v:04X}" for v in table[i:i + 8]) + f",  // {i:02X}")
    return f"/// {doc}\npub(crate) const {name}: [u16; 256] = [\n" + "\n".join(rows) + "\n];\n"


cp037, cp1047 = sbcs("IBM037"), sbcs("IBM1047")
for name, t in (("IBM037", cp037), ("IBM1047", cp1047)):
    assert sorted(t) == list(range(256)), f"{name} is not a bijection onto U+0000..U+00FF"
k933, k1364 = sbcs("IBM933"), sbcs("IBM1364")
assert k933 == k1364, "IBM933 and IBM1364 single-byte halves differ: split KOREAN_SBCS"

with open(f"{out_dir}/sbcs.rs", "w") as f:
    f.write("// @generated by generate.sh from glibc iconv; do not edit.\n")
    f.write("// Index: the EBCDIC byte. Value: its Unicode code point, 0xFFFF if none.\n\n")
    f.write(rust_table("CP037", "IBM037 (EBCDIC US/Canada), from `iconv -f IBM037`.", cp037))
    f.write("\n" + rust_table("CP1047", "IBM1047 (EBCDIC Latin-1), from `iconv -f IBM1047`.", cp1047))
    f.write("\n" + rust_table("KOREAN_SBCS", "Single-byte half of IBM933/IBM1364 (0x0E/0x0F are SO/SI).", k933))

for cs, icu, fname in (("IBM933", "ibm-933", "cp933.bin"), ("IBM1364", "ibm-1364", "cp1364.bin")):
    table = dbcs(cs)
    sb_chars = {u for u in k933 if u != NONE}
    chars = sorted(set(table.values()))
    back = dict(zip(chars, encode_each(cs, chars)))
    kept = {c: u for c, u in table.items() if back[u] == [c] and u not in sb_chars}
    dropped = len(table) - len(kept)
    assert len(set(kept.values())) == len(kept), f"{cs}: two codes for one character"
    with open(f"{out_dir}/{fname}", "wb") as f:
        for code in sorted(kept):
            f.write(code.to_bytes(2, "big") + kept[code].to_bytes(2, "big"))
    print(f"{cs}: {len(kept)} double-byte codes -> {fname} ({dropped} one-way dropped)")
    uconv_check(cs, icu, kept)
PY
