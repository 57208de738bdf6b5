//! The C emitter: a verified container as one self-contained C file with the native
//! ABI of `targets/include/fc_abi.h`, for every SoC's own compiler to finish.
//!
//! One C function per eBPF function, a label per jump target, the address-map check
//! inline at every access, the budget at every taken jump, 32-bit C arithmetic for
//! ALU32/JMP32 bytecode, and byte-wise (`memcpy`) accesses so cores that trap on
//! unaligned loads do not.

use std::collections::BTreeSet;
use std::fmt::Write;

use fc_runtime::error::ErrorCode;
use fc_runtime::insn::{AluOp, AtomicOp, ByteOrder, Cond, Operand, Reg, SwapWidth, SxSize, Width};
use fc_runtime::native::ABI_VERSION;
use fc_runtime::verifier::{Instr, VerifiedProgram};

use super::symbols::Symbols;
use super::Input;

pub(crate) const PRELUDE: &str = r#"#include <stdint.h>
#include <stddef.h>

/* The native ABI, as targets/include/fc_abi.h defines it (kept here so the file stands alone). */
#ifndef FC_ABI_H
#define FC_ABI_H
#define FC_ABI_VERSION 2u
#define FC_FLAG_BUDGET_OFF 1u
typedef struct fc_region { uint8_t *base; uint32_t len; uint32_t writable; } fc_region;
typedef struct fc_env fc_env;
typedef uint64_t (*fc_env_helper_fn)(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5);
struct fc_env {
    fc_region regions[16];
    fc_env_helper_fn helper;
    void *host;
    uint64_t budget;
    uint64_t frame_size;
    uint64_t stack_top;
    int32_t error;
    uint32_t error_pc;
    uint32_t stop;
    uint32_t flags;
};
#endif

/* The one access check: [addr, addr + n) inside the region of its slot, writable if asked.
 * Every mapped address fits 32 bits, so the rest is 32-bit arithmetic (cheap on 32-bit cores);
 * an offset is below 2^28 and n at most 8, so offset + n cannot wrap. */
static inline uint8_t *fc_at(fc_env *env, uint64_t addr, uint32_t n, int write) {
    if ((uint32_t)(addr >> 32) != 0) return 0;
    uint32_t low = (uint32_t)addr;
    const fc_region *r = &env->regions[low >> 28];
    uint32_t offset = low & 0x0fffffffu;
    if (offset + n > r->len || (write && !r->writable)) return 0;
    return r->base + offset;
}

#define FC_TRAP(code, pc) do { env->error = (code); env->error_pc = (pc); return 0; } while (0)
/* A taken jump: the countdown runs out at 0, unless the budget is off: then it starts a
 * new round (so no compiler can fold a countdown loop to its exit). */
#define FC_TAKE(pc, label) do { if (budget == 0) { if (!(env->flags & FC_FLAG_BUDGET_OFF)) FC_TRAP(-8, pc); \
    budget = UINT64_MAX; } budget--; goto label; } while (0)
/* A helper call: the dispatch charges its work against env->budget; a helper (or the
 * charge) that ends the run sets env->stop, and the run stops at this slot. */
#define FC_HELPER(id, pc) do { env->budget = budget; r0 = env->helper(env, id, r1, r2, r3, r4, r5); \
    budget = env->budget; if (env->stop) { env->error_pc = (pc); return r0; } } while (0)
/* Container memory may be unaligned and some cores trap on unaligned access, so
 * values are assembled from bytes. Compilers merge this into one load or store where
 * the core allows unaligned access, and emit byte accesses elsewhere (far cheaper than
 * the memcpy call a strict-alignment core would get). */
/* Only some of these are used by a given container. */
#define FC_INLINE static inline __attribute__((unused))
FC_INLINE uint8_t fc_get8(const uint8_t *p) { return p[0]; }
FC_INLINE uint16_t fc_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
FC_INLINE uint32_t fc_get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
FC_INLINE uint64_t fc_get64(const uint8_t *p) { return fc_get32(p) | (uint64_t)fc_get32(p + 4) << 32; }
FC_INLINE void fc_put8(uint8_t *p, uint8_t v) { p[0] = v; }
FC_INLINE void fc_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
FC_INLINE void fc_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
FC_INLINE void fc_put64(uint8_t *p, uint64_t v) { fc_put32(p, (uint32_t)v); fc_put32(p + 4, (uint32_t)(v >> 32)); }

#define FC_LOAD(bits, dst, addr, pc) do { uint8_t *p_ = fc_at(env, (addr), (bits) / 8, 0); \
    if (!p_) { FC_TRAP(-2, pc); } dst = fc_get##bits(p_); } while (0)
#define FC_STORE(bits, addr, value, pc) do { uint8_t *p_ = fc_at(env, (addr), (bits) / 8, 1); \
    if (!p_) { FC_TRAP(-2, pc); } fc_put##bits(p_, (uint##bits##_t)(value)); } while (0)
"#;

fn signed_type(size: SxSize) -> &'static str {
    match size {
        SxSize::B => "int8_t",
        SxSize::H => "int16_t",
        SxSize::W => "int32_t",
    }
}

fn reg(r: Reg) -> String {
    format!("r{}", r.num())
}

/// The source operand at `width`: a register or a constant of the right type.
fn operand(width: Width, src: Operand) -> String {
    match (width, src) {
        (Width::W64, Operand::Reg(r)) => reg(r),
        (Width::W32, Operand::Reg(r)) => format!("(uint32_t){}", reg(r)),
        (Width::W64, Operand::Imm(i)) => format!("UINT64_C(0x{:x})", i as i64 as u64),
        (Width::W32, Operand::Imm(i)) => format!("UINT32_C(0x{:x})", i as u32),
    }
}

fn address(base: Reg, off: i16) -> String {
    format!("{} + (uint64_t)(int64_t){}", reg(base), off)
}

fn alu(width: Width, op: AluOp, d: &str, s: &str) -> String {
    let (u, i, mask) = match width {
        Width::W64 => ("uint64_t", "int64_t", 63),
        Width::W32 => ("uint32_t", "int32_t", 31),
    };
    let a = if width == Width::W64 { d.to_string() } else { format!("(uint32_t){d}") };
    let e = match op {
        AluOp::Add => format!("{a} + {s}"),
        AluOp::Sub => format!("{a} - {s}"),
        AluOp::Mul => format!("({u}){a} * ({u}){s}"),
        AluOp::Or => format!("{a} | {s}"),
        AluOp::And => format!("{a} & {s}"),
        AluOp::Xor => format!("{a} ^ {s}"),
        AluOp::Lsh => format!("{a} << ({s} & {mask})"),
        AluOp::Rsh => format!("{a} >> ({s} & {mask})"),
        AluOp::Arsh => format!("({u})(({i}){a} >> ({s} & {mask}))"),
        AluOp::Mov => s.to_string(),
        AluOp::Div => format!("{s} == 0 ? 0 : {a} / {s}"),
        AluOp::Mod => format!("{s} == 0 ? {a} : {a} % {s}"),
        // INT_MIN / -1 overflows in C: negate instead (wrapping, as the RFC says).
        AluOp::SDiv => format!("{s} == 0 ? 0 : ({i}){s} == -1 ? ({u})(0 - {a}) : ({u})(({i}){a} / ({i}){s})"),
        AluOp::SMod => format!("{s} == 0 ? {a} : ({i}){s} == -1 ? 0 : ({u})(({i}){a} % ({i}){s})"),
    };
    format!("{d} = ({u})({e});")
}

fn condition(width: Width, cond: Cond, d: &str, s: &str) -> String {
    let (a, i) = match width {
        Width::W64 => (d.to_string(), "int64_t"),
        Width::W32 => (format!("(uint32_t){d}"), "int32_t"),
    };
    match cond {
        Cond::Eq => format!("{a} == {s}"),
        Cond::Ne => format!("{a} != {s}"),
        Cond::Gt => format!("{a} > {s}"),
        Cond::Ge => format!("{a} >= {s}"),
        Cond::Lt => format!("{a} < {s}"),
        Cond::Le => format!("{a} <= {s}"),
        Cond::Set => format!("({a} & {s}) != 0"),
        Cond::Sgt => format!("({i}){a} > ({i}){s}"),
        Cond::Sge => format!("({i}){a} >= ({i}){s}"),
        Cond::Slt => format!("({i}){a} < ({i}){s}"),
        Cond::Sle => format!("({i}){a} <= ({i}){s}"),
    }
}

fn bytes_array(out: &mut String, name: &str, bytes: &[u8]) {
    // At least one element: C has no empty arrays.
    let shown = if bytes.is_empty() { &[0u8][..] } else { bytes };
    let _ = write!(out, "const uint8_t {name}[{}] __attribute__((aligned(8))) = {{", shown.len());
    for (i, b) in shown.iter().enumerate() {
        let sep = if i % 16 == 0 { "\n    " } else { " " };
        let _ = write!(out, "{sep}0x{b:02x},");
    }
    let _ = writeln!(out, "\n}};");
}

/// The C file for `input`.
pub fn emit(input: &Input) -> String {
    let program = input.program;
    let symbols = Symbols::new(input.container);
    let mut out = format!(
        "/* Generated by fc-aot from container `{}`: native code for every SoC's C compiler.\n * ABI: targets/include/fc_abi.h, version {ABI_VERSION}. Do not edit. */\n",
        input.container
    );
    out.push_str(PRELUDE);
    out.push('\n');
    for f in program.functions() {
        let _ = writeln!(out, "static uint64_t {}(fc_env *restrict env, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, uint64_t r10);", symbols.private_function(f.start));
    }
    for index in 0..program.functions().len() {
        out.push('\n');
        function(&mut out, program, &symbols, index);
    }
    out.push('\n');
    let _ = writeln!(out, "const uint32_t {} = {ABI_VERSION}u;", symbols.abi_version());
    for (name, f) in input.functions {
        let (symbol, depth) = (symbols.entry(name), symbols.depth(name));
        let private = symbols.private_function(program.functions()[*f].start);
        let _ = writeln!(out, "const uint32_t {depth} = {}u;", program.depth(*f));
        let _ = writeln!(out, "uint64_t {symbol}(fc_env *env, uint64_t r1, uint64_t r2);");
        let _ = writeln!(
            out,
            "uint64_t {symbol}(fc_env *env, uint64_t r1, uint64_t r2) {{\n    return {private}(env, r1, r2, 0, 0, 0, env->stack_top);\n}}"
        );
    }
    bytes_array(&mut out, &symbols.rodata(), input.rodata);
    let _ = writeln!(out, "const uint32_t {} = {}u;", symbols.rodata_len(), input.rodata.len());
    bytes_array(&mut out, &symbols.data(), input.data);
    let _ = writeln!(out, "const uint32_t {} = {}u;", symbols.data_len(), input.data.len());
    let _ = writeln!(out, "const uint32_t {} = {}u;", symbols.bss_len(), input.bss_len);
    out
}

fn function(out: &mut String, program: &VerifiedProgram, symbols: &Symbols, index: usize) {
    let start = program.functions()[index].start;
    let body = program.body(index);
    // Only jump targets get labels (an unused label is a warning).
    let targets: BTreeSet<usize> = body
        .iter()
        .filter_map(|i| match i.instr() {
            Instr::Goto { target } | Instr::Branch { target, .. } => Some(target.slot()),
            _ => None,
        })
        .collect();
    // `restrict`: container memory never overlaps the environment, so stores through
    // byte pointers need not make the compiler reload the region table.
    let _ = writeln!(out, "static uint64_t {}(fc_env *restrict env, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, uint64_t r10) {{", symbols.private_function(start));
    out.push_str("    uint64_t r0 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;\n    uint64_t budget = env->budget;\n");
    out.push_str("    (void)r0; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5; (void)r6; (void)r7; (void)r8; (void)r9; (void)r10; (void)budget;\n");
    for insn in body {
        let pc = insn.slot();
        if targets.contains(&pc) {
            let _ = writeln!(out, "L{pc}:;");
        }
        let _ = writeln!(out, "    {}", statement(program, symbols, pc, insn.instr()));
    }
    out.push_str("}\n");
}

/// The C statement of one instruction at slot `pc`.
fn statement(program: &VerifiedProgram, symbols: &Symbols, pc: usize, instr: Instr) -> String {
    let mem = ErrorCode::IllegalMem.code();
    match instr {
        Instr::Alu { width, op, dst, src } => alu(width, op, &reg(dst), &operand(width, src)),
        Instr::MovSx { width, dst, src, from } => {
            let wide = if width == Width::W64 { "(uint64_t)(int64_t)" } else { "(uint32_t)(int32_t)" };
            format!("{} = {wide}({}){};", reg(dst), signed_type(from), reg(src))
        }
        Instr::Neg { width: Width::W64, dst } => format!("{0} = 0 - {0};", reg(dst)),
        Instr::Neg { width: Width::W32, dst } => format!("{0} = (uint32_t)(0u - (uint32_t){0});", reg(dst)),
        Instr::End { order, dst, width } => {
            let d = reg(dst);
            match (order, width) {
                (ByteOrder::ToLe, SwapWidth::W16) => format!("{d} = (uint16_t){d};"),
                (ByteOrder::ToLe, SwapWidth::W32) => format!("{d} = (uint32_t){d};"),
                (ByteOrder::ToLe, SwapWidth::W64) => format!("(void){d};"),
                (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W16) => format!("{d} = __builtin_bswap16((uint16_t){d});"),
                (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W32) => format!("{d} = __builtin_bswap32((uint32_t){d});"),
                (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W64) => format!("{d} = __builtin_bswap64({d});"),
            }
        }
        Instr::Const { dst, value } => format!("{} = UINT64_C(0x{value:x});", reg(dst)),
        Instr::Load { size, dst, src, off } => format!("FC_LOAD({}, {}, {}, {pc});", size.bytes() * 8, reg(dst), address(src, off)),
        // Converting the signed value to uint64_t sign-extends it.
        Instr::LoadSx { size, dst, src, off } => format!(
            "FC_LOAD({}, {}, {}, {pc}); {1} = (uint64_t)(int64_t)({}){1};",
            size.bits(),
            reg(dst),
            address(src, off),
            signed_type(size)
        ),
        Instr::Store { size, dst, off, src } => format!("FC_STORE({}, {}, {}, {pc});", size.bytes() * 8, address(dst, off), operand(Width::W64, src)),
        Instr::Atomic { width, op, dst, src, off } => {
            let (t, n, bits) = if width == Width::W64 { ("uint64_t", 8, 64) } else { ("uint32_t", 4, 32) };
            let s = reg(src);
            let new = match op {
                AtomicOp::Add { .. } => format!("old + ({t}){s}"),
                AtomicOp::Or { .. } => format!("old | ({t}){s}"),
                AtomicOp::And { .. } => format!("old & ({t}){s}"),
                AtomicOp::Xor { .. } => format!("old ^ ({t}){s}"),
                AtomicOp::Xchg => format!("({t}){s}"),
                AtomicOp::CmpXchg => format!("old == ({t})r0 ? ({t}){s} : old"),
            };
            let result = match op {
                AtomicOp::CmpXchg => "r0 = old;".to_string(),
                _ if op.fetches() => format!("{s} = old;"),
                _ => String::new(),
            };
            // Read and write access are both required, even when nothing is stored.
            format!(
                "{{ uint8_t *p = fc_at(env, {}, {n}, 1); {t} old; if (!p) {{ FC_TRAP({mem}, {pc}); }} old = fc_get{bits}(p); fc_put{bits}(p, {new}); {result} }}",
                address(dst, off)
            )
        }
        Instr::Goto { target } => format!("FC_TAKE({pc}, L{});", target.slot()),
        Instr::Branch { width, cond, dst, src, target } => format!(
            "if ({}) FC_TAKE({pc}, L{});",
            condition(width, cond, &reg(dst), &operand(width, src)),
            target.slot()
        ),
        Instr::CallHelper { id } => format!("FC_HELPER({id}u, {pc});"),
        Instr::Call { callee } => {
            let callee = symbols.private_function(program.functions()[callee].start);
            format!(
                "env->budget = budget; r0 = {callee}(env, r1, r2, r3, r4, r5, r10 - env->frame_size); budget = env->budget; if (env->error || env->stop) {{ return r0; }}"
            )
        }
        Instr::Exit => "env->budget = budget; return r0;".to_string(),
    }
}
