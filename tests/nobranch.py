#!/usr/bin/env python3
"""No branches and no tables in the scalar conversions, shown on the code.

Builds tests/nobranch/fns.c (every scalar conversion of codec/fp8.h as an
external function k_NAME) at -O2 for x86-64, 32-bit ARM Thumb-2 (Cortex-M3)
and rv32imc, with gcc and clang, disassembles each function with
llvm-objdump and fails if any of them has
  - a conditional branch (or a compare-and-branch, a table branch, a loop
    instruction),
  - an indirect jump or a call (a helper could hide a branch or a table),
  - a load whose address is not fixed: anything but a stack slot or a
    constant at a fixed pc-relative address (a literal pool entry). A table
    lookup needs an address computed from the data, so it shows up here.
The negative controls in tests/nobranch/controls.c (a data-dependent loop,
a 32-entry table) go through the same checker and must both be flagged on
every target, or the test fails: the checker is shown to be able to fail.

Also checks that tests/entry_points.h names every function the header
defines, and writes the code size of each scalar conversion on Cortex-M3
and rv32imc (gcc, -O2 and -Os) to BUILD/codesize.md.

Prints ok/FAIL/SKIPPED lines; a missing cross compiler is SKIPPED.
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"), "nobranch")
FNS = os.path.join(ROOT, "tests/nobranch/fns.c")
CONTROLS = os.path.join(ROOT, "tests/nobranch/controls.c")
COMMON = ["-std=c99", "-ffreestanding", "-fno-builtin", "-Wall", "-Wextra", "-Werror", "-c"]

CM3 = ["-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"]
RV32 = ["-march=rv32imc", "-mabi=ilp32"]
# (label, arch, compiler command)
TARGETS = [
    ("x86-64 gcc", "x86", ["gcc"]),
    ("x86-64 clang", "x86", ["clang"]),
    ("thumb2 cortex-m3 gcc", "arm", ["arm-none-eabi-gcc"] + CM3),
    ("thumb2 cortex-m3 clang", "arm", ["clang", "--target=thumbv7m-none-eabi"] + CM3),
    ("rv32imc gcc", "rv", ["riscv64-unknown-elf-gcc"] + RV32),
    ("rv32imc clang", "rv", ["clang", "--target=riscv32-unknown-elf"] + RV32),
]

ARM_COND = "eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le"


def disassemble(obj):
    """{function name: [(mnemonic, operands)]} for the k_ functions."""
    text = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", obj],
                          check=True, capture_output=True, text=True).stdout
    funcs, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            name = m.group(1)
            if name.startswith("$"):  # ARM mapping symbol: data or code inside the function
                continue
            cur = funcs.setdefault(name, []) if name.startswith("k_") else None
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(?:[0-9a-f]{2} )*\s*(\S+)\s*(.*)$", line)
        if cur is not None and m and not m.group(1).startswith("."):  # .word: literal pool data
            cur.append((m.group(1), m.group(2).split(" #")[0].split(" @")[0].strip()))
    return funcs


def problems(arch, insns):
    """The instructions that break the rules, as strings."""
    bad = []
    for mn, ops in insns:
        why = None
        if arch == "x86":
            if re.match(r"^(j(?!mp)[a-z]+|loop[a-z]*|j[er]?cxz)$", mn):
                why = "conditional branch"
            elif mn.startswith("call") or (mn.startswith("jmp") and "*" in ops):
                why = "call or indirect jump"
            elif not mn.startswith(("lea", "nop")):
                for mem in re.findall(r"\(([^)]*)\)", ops):
                    base = mem.split(",")
                    if base[0] in ("%rsp", "%esp") or (base[0] == "%rip" and len(base) == 1):
                        continue
                    why = "load or store at a computed address"
        elif arch == "arm":
            if re.match(rf"^(b({ARM_COND})(\.[nw])?|cbn?z|tbb|tbh)$", mn):
                why = "conditional branch"
            elif re.match(r"^(blx?)$", mn) or (mn == "bx" and ops != "lr") or (mn.startswith("mov") and ops.startswith("pc")):
                why = "call or indirect jump"
            elif re.match(r"^(ldr|ldm|vldr|vldm)", mn):
                if not re.search(r"\[(pc|sp)\b", ops) and not (mn.startswith("ldm") and ops.startswith("sp")):
                    why = "load at a computed address"
        elif arch == "rv":
            if re.match(r"^(c\.)?b(eq|ne|lt|ge|ltu|geu|eqz|nez|lez|gez|ltz|gtz|gt|le|gtu|leu)$", mn):
                why = "conditional branch"
            elif mn in ("jal", "jalr", "call", "tail", "c.jal", "c.jalr") or (mn in ("jr", "c.jr") and ops != "ra"):
                why = "call or indirect jump"
            elif re.match(r"^(c\.)?(lb|lh|lw|lbu|lhu|lwsp|flw|fld)$", mn) and not ops.endswith("(sp)"):
                why = "load at a computed address"
        if why:
            bad.append(f"{why}: {mn} {ops}")
    return bad


def compile_obj(cmd, opt, src, obj):
    r = subprocess.run(cmd + COMMON + [opt, src, "-o", obj], capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def code_sizes(cmd, opt, label, tag, funcs, sizes):
    """Bytes of .text that using one conversion costs: its function and all
    it calls (at -Os the helpers stay out of line), by linking each alone
    with --gc-sections."""
    obj = os.path.join(BUILD, f"sections-{tag}{opt}.o")
    subprocess.run(cmd + COMMON + [opt, "-ffunction-sections", FNS, "-o", obj], check=True)
    elf = os.path.join(BUILD, "one.elf")
    for name in funcs:
        subprocess.run(cmd + ["-nostdlib", "-nostartfiles", "-Wl,--gc-sections", f"-Wl,-e,{name}",
                              "-Wl,--no-warn-rwx-segments", obj, "-o", elf], check=True)
        out = subprocess.run(["llvm-size", "-A", elf], check=True, capture_output=True, text=True).stdout
        text = sum(int(line.split()[1]) for line in out.splitlines() if line.startswith(".text"))
        sizes.setdefault(name[2:], {})[f"{label} {opt}"] = text


def header_functions():
    """Every public function of codec/fp8.h (not fp8kit_ internals)."""
    text = open(os.path.join(ROOT, "codec/fp8.h")).read()
    names = set(re.findall(r"^FP8_FN\s+[\w\s\*]*?\b(\w+)\s*\(", text, re.M))
    names |= set(re.findall(r"^FP8KIT_ARRAY\((\w+),", text, re.M))
    return {n for n in names if not n.startswith("fp8kit_")}


def listed_functions():
    text = open(os.path.join(ROOT, "tests/entry_points.h")).read()
    return set(re.findall(r"\bX\((\w+)", text))


def main():
    os.makedirs(BUILD, exist_ok=True)
    fail = False

    missing = header_functions() - listed_functions()
    if missing:
        print(f"FAIL nobranch: tests/entry_points.h misses functions of codec/fp8.h: {', '.join(sorted(missing))}")
        fail = True
    else:
        print(f"ok   nobranch: tests/entry_points.h lists all {len(header_functions())} functions of codec/fp8.h")

    if not shutil.which("llvm-objdump"):
        print("SKIPPED nobranch: llvm-objdump not found (package llvm)")
        return 1 if fail else 0

    sizes = {}
    for label, arch, cmd in TARGETS:
        if not shutil.which(cmd[0]):
            print(f"SKIPPED nobranch {label}: {cmd[0]} not installed")
            continue
        tag = label.replace(" ", "-")
        opts = ["-O2"] + (["-Os"] if cmd[0] != "clang" and arch != "x86" else [])
        for opt in opts:
            obj = os.path.join(BUILD, f"fns-{tag}{opt}.o")
            ok, err = compile_obj(cmd, opt, FNS, obj)
            if not ok:
                print(f"FAIL nobranch {label} {opt}: does not compile:\n{err[:2000]}")
                fail = True
                continue
            funcs = disassemble(obj)
            if arch != "x86" and cmd[0] != "clang":
                code_sizes(cmd, opt, label, tag, funcs, sizes)
            if opt != "-O2":
                continue  # -Os: sizes only
            flagged = {f: problems(arch, ins) for f, ins in funcs.items()}
            flagged = {f: b for f, b in flagged.items() if b}
            n_ins = sum(len(i) for i in funcs.values())
            if len(funcs) < 40:
                print(f"FAIL nobranch {label} -O2: found only {len(funcs)} k_ functions in the disassembly")
                fail = True
            elif flagged:
                fail = True
                for f, b in sorted(flagged.items()):
                    print(f"FAIL nobranch {label} -O2: {f[2:]}: " + "; ".join(b[:4]))
            else:
                consts = sum(1 for ins in funcs.values() for mn, ops in ins if "[pc" in ops or "(%rip)" in ops)
                print(f"ok   nobranch {label} -O2: {len(funcs)} scalar conversions, {n_ins} instructions: "
                      f"no conditional branch, no call, no load at a computed address"
                      + (f" ({consts} constant loads from literal pools)" if consts else ""))
        # the negative controls must be caught
        obj = os.path.join(BUILD, f"controls-{tag}.o")
        ok, err = compile_obj(cmd, "-O2", CONTROLS, obj)
        if not ok:
            print(f"FAIL nobranch {label}: controls do not compile:\n{err[:2000]}")
            fail = True
            continue
        funcs = disassemble(obj)
        got = {f: problems(arch, ins) for f, ins in funcs.items()}
        br = any(b.startswith("conditional branch") for b in got.get("k_control_branch", []))
        tb = any("computed address" in b for b in got.get("k_control_table", []))
        if br and tb:
            print(f"ok   nobranch {label}: the checker flags the controls (a data-dependent loop's branch, a table lookup's load)")
        else:
            print(f"FAIL nobranch {label}: the checker missed a control (branch flagged: {br}, table flagged: {tb})")
            fail = True

    # code size table
    cols = [c for c in ("thumb2 cortex-m3 gcc -O2", "thumb2 cortex-m3 gcc -Os", "rv32imc gcc -O2", "rv32imc gcc -Os")
            if any(c in v for v in sizes.values())]
    if cols:
        with open(os.path.join(BUILD, "..", "codesize.md"), "w") as f:
            f.write("| function | " + " | ".join(c.replace("thumb2 ", "").replace(" gcc", "") for c in cols) + " |\n")
            f.write("| --- |" + " ---: |" * len(cols) + "\n")
            for name in sorted(sizes):
                f.write(f"| `{name}` | " + " | ".join(str(sizes[name].get(c, "")) for c in cols) + " |\n")
        print(f"ok   nobranch: code size of {len(sizes)} scalar conversions written to {os.path.relpath(os.path.join(BUILD, '..', 'codesize.md'), ROOT)}")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
