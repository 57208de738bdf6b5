//! The C emitter: a verified container as one self-contained C file with the native
//! ABI of `targets/include/fc_abi.h`, for every SoC's own compiler to finish.
//!
//! One C function per eBPF function, a label per jump target, the address-map check
//! inline at every access, the budget at every taken jump, 32-bit C arithmetic for
//! ALU32/JMP32 bytecode, and byte-wise (`memcpy`) accesses so cores that trap on
//! unaligned loads do not. What each instruction does comes from the lowering plan
//! ([`super::plan`]); this module only writes its steps as C.

use std::collections::BTreeSet;
use std::fmt::Write;

use fc_runtime::insn::{Cond, Operand, Reg, Size, SxSize, Width};
use fc_runtime::memory::Access;
use fc_runtime::native::ABI_VERSION;
use fc_runtime::verifier::VerifiedProgram;

use super::plan::{self, Binary, Check, Compute, Fallback, Flag, Shift, Step, Update};
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
 * new round (so no compiler can fold a countdown loop to its exit). One line: the
 * benchmark scripts replace it with sed to measure code without the budget. */
#define FC_TAKE(pc, label) do { if (budget == 0) { if (!(env->flags & FC_FLAG_BUDGET_OFF)) FC_TRAP(-8, pc); budget = UINT64_MAX; } budget--; goto label; } while (0)
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

/* An access after its check: [addr, addr + bits / 8) readable (writable too when write is 1),
 * else the trap (code, pc). */
#define FC_LOAD(bits, dst, addr, write, code, pc) do { uint8_t *p_ = fc_at(env, (addr), (bits) / 8, (write)); \
    if (!p_) { FC_TRAP(code, pc); } dst = fc_get##bits(p_); } while (0)
#define FC_STORE(bits, addr, value, write, code, pc) do { uint8_t *p_ = fc_at(env, (addr), (bits) / 8, (write)); \
    if (!p_) { FC_TRAP(code, pc); } fc_put##bits(p_, (uint##bits##_t)(value)); } while (0)
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

fn binary_operator(op: Binary) -> &'static str {
    match op {
        Binary::Add => "+",
        Binary::Sub => "-",
        Binary::Mul => "*",
        Binary::Or => "|",
        Binary::And => "&",
        Binary::Xor => "^",
    }
}

fn alu(width: Width, compute: Compute, d: &str, s: &str) -> String {
    let (u, i) = match width {
        Width::W64 => ("uint64_t", "int64_t"),
        Width::W32 => ("uint32_t", "int32_t"),
    };
    let a = if width == Width::W64 { d.to_string() } else { format!("(uint32_t){d}") };
    let fallback = |f: Fallback| match f {
        Fallback::Zero => "0".to_string(),
        Fallback::Dividend => a.clone(),
        Fallback::Negated => format!("({u})(0 - {a})"),
    };
    let e = match compute {
        // Both operands of the product at the width: no promotion to a signed int.
        Compute::Binary(Binary::Mul) => format!("({u}){a} * ({u}){s}"),
        Compute::Binary(op) => format!("{a} {} {s}", binary_operator(op)),
        Compute::Move => s.to_string(),
        Compute::Shift { op: Shift::Left, mask } => format!("{a} << ({s} & {mask})"),
        Compute::Shift { op: Shift::Right, mask } => format!("{a} >> ({s} & {mask})"),
        Compute::Shift { op: Shift::Arithmetic, mask } => format!("({u})(({i}){a} >> ({s} & {mask}))"),
        Compute::Divide { signed, remainder, by_zero, by_minus_one } => {
            let op = if remainder { "%" } else { "/" };
            let machine = if signed { format!("({u})(({i}){a} {op} ({i}){s})") } else { format!("{a} {op} {s}") };
            let machine = match by_minus_one {
                Some(f) => format!("({i}){s} == -1 ? {} : {machine}", fallback(f)),
                None => machine,
            };
            format!("{s} == 0 ? {} : {machine}", fallback(by_zero))
        }
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
    let planned: Vec<(usize, plan::Steps)> = program.body(index).iter().map(|i| (i.slot(), plan::steps(i))).collect();
    // Only jump targets get labels (an unused label is a warning).
    let targets: BTreeSet<usize> = planned
        .iter()
        .flat_map(|(_, steps)| steps.iter())
        .filter_map(|step| match step {
            Step::Jump { target, .. } | Step::Branch { target, .. } => Some(target),
            _ => None,
        })
        .collect();
    // `restrict`: container memory never overlaps the environment, so stores through
    // byte pointers need not make the compiler reload the region table.
    let _ = writeln!(out, "static uint64_t {}(fc_env *restrict env, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, uint64_t r10) {{", symbols.private_function(start));
    out.push_str("    uint64_t r0 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;\n    uint64_t budget = env->budget;\n");
    out.push_str("    (void)r0; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5; (void)r6; (void)r7; (void)r8; (void)r9; (void)r10; (void)budget;\n");
    for (pc, steps) in &planned {
        if targets.contains(pc) {
            let _ = writeln!(out, "L{pc}:;");
        }
        // One line per instruction (an instruction without steps has none).
        let line: Vec<String> = steps.iter().map(|step| statement(program, symbols, step)).collect();
        if !line.is_empty() {
            let _ = writeln!(out, "    {}", line.join(" "));
        }
    }
    out.push_str("}\n");
}

/// `fc_at`'s write flag for an access.
fn write_flag(access: Access) -> u8 {
    match access {
        Access::Read => 0,
        Access::Write | Access::ReadWrite => 1,
    }
}

/// The write flag, error code and slot of a check, as the access macros take them after the address.
fn trap_args(check: &Check) -> String {
    format!("{}, {}, {}", write_flag(check.access), check.trap.code.code(), check.trap.slot)
}

const fn bits(size: Size) -> usize {
    size.bytes() * 8
}

fn unsigned_type(bits: u32) -> &'static str {
    match bits {
        8 => "uint8_t",
        16 => "uint16_t",
        32 => "uint32_t",
        _ => "uint64_t",
    }
}

/// The C statement of one step.
fn statement(program: &VerifiedProgram, symbols: &Symbols, step: Step) -> String {
    match step {
        Step::Alu { width, dst, src, compute } => alu(width, compute, &reg(dst), &operand(width, src)),
        Step::SignExtend { width, dst, src, from } => {
            let wide = if width == Width::W64 { "(uint64_t)(int64_t)" } else { "(uint32_t)(int32_t)" };
            format!("{} = {wide}({}){};", reg(dst), signed_type(from), reg(src))
        }
        Step::Neg { width: Width::W64, dst } => format!("{0} = 0 - {0};", reg(dst)),
        Step::Neg { width: Width::W32, dst } => format!("{0} = (uint32_t)(0u - (uint32_t){0});", reg(dst)),
        Step::ZeroExtend { dst, bits } => format!("{0} = ({1}){0};", reg(dst), unsigned_type(bits)),
        Step::ByteSwap { dst, bits: 64 } => format!("{0} = __builtin_bswap64({0});", reg(dst)),
        Step::ByteSwap { dst, bits } => format!("{0} = __builtin_bswap{bits}(({1}){0});", reg(dst), unsigned_type(bits)),
        Step::Const { dst, value } => format!("{} = UINT64_C(0x{value:x});", reg(dst)),
        Step::Load { dst, size, signed: false, check } => {
            format!("FC_LOAD({}, {}, {}, {});", bits(size), reg(dst), address(check.base, check.off), trap_args(&check))
        }
        // Converting the signed value to uint64_t sign-extends it.
        Step::Load { dst, size, signed: true, check } => {
            let signed = match size {
                Size::B => signed_type(SxSize::B),
                Size::H => signed_type(SxSize::H),
                Size::W | Size::DW => signed_type(SxSize::W),
            };
            format!(
                "FC_LOAD({0}, {1}, {2}, {3}); {1} = (uint64_t)(int64_t)({signed}){1};",
                bits(size),
                reg(dst),
                address(check.base, check.off),
                trap_args(&check)
            )
        }
        Step::Store { size, src, check } => format!(
            "FC_STORE({}, {}, {}, {});",
            bits(size),
            address(check.base, check.off),
            operand(Width::W64, src),
            trap_args(&check)
        ),
        Step::Atomic { width, update, src, result, check } => {
            let (t, bits) = if width == Width::W64 { ("uint64_t", 64) } else { ("uint32_t", 32) };
            let s = reg(src);
            let new = match update {
                Update::Binary(op) => format!("old {} ({t}){s}", binary_operator(op)),
                Update::Exchange => format!("({t}){s}"),
                Update::CompareExchange { expected } => format!("old == ({t}){} ? ({t}){s} : old", reg(expected)),
            };
            let result = result.map_or(String::new(), |r| format!("{} = old;", reg(r)));
            format!(
                "{{ uint8_t *p = fc_at(env, {}, {}, {}); {t} old; if (!p) {{ FC_TRAP({}, {}); }} old = fc_get{bits}(p); fc_put{bits}(p, {new}); {result} }}",
                address(check.base, check.off),
                check.bytes,
                write_flag(check.access),
                check.trap.code.code(),
                check.trap.slot,
            )
        }
        // FC_TAKE charges the budget and traps with plan::BUDGET_TRAP (a test checks the prelude).
        Step::Jump { target, charge } => format!("FC_TAKE({}, L{target});", charge.trap.slot),
        Step::Branch { width, cond, dst, src, target, charge, .. } => format!(
            "if ({}) FC_TAKE({}, L{target});",
            condition(width, cond, &reg(dst), &operand(width, src)),
            charge.trap.slot
        ),
        Step::SpillBudget => "env->budget = budget;".to_string(),
        Step::ReloadBudget => "budget = env->budget;".to_string(),
        Step::CallHelper { id } => format!("r0 = env->helper(env, {id}u, r1, r2, r3, r4, r5);"),
        Step::CallLocal { callee } => {
            let callee = symbols.private_function(program.functions()[callee].start);
            format!("r0 = {callee}(env, r1, r2, r3, r4, r5, r10 - env->frame_size);")
        }
        Step::LeaveIf { flags, record_slot } => {
            let set: Vec<&str> = flags
                .iter()
                .map(|f| match f {
                    Flag::Error => "env->error",
                    Flag::Stop => "env->stop",
                })
                .collect();
            let record = record_slot.map_or(String::new(), |slot| format!("env->error_pc = {slot}; "));
            format!("if ({}) {{ {record}return r0; }}", set.join(" || "))
        }
        Step::Return => "return r0;".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelude_traps_with_the_plans_codes() {
        // FC_TAKE has the budget's code built in; the access macros take theirs.
        assert!(PRELUDE.contains(&format!("FC_TRAP({}, pc)", plan::BUDGET_TRAP.code())));
        assert!(PRELUDE.contains("FC_TRAP(code, pc)"));
    }
}
