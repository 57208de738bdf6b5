//! Lowering of a `VerifiedProgram` to Cranelift IR: one Cranelift function per eBPF
//! function, one block per basic block, r0-r10 as variables, and the address map,
//! budget and faults of spec §2 through the `fc_env` of the native ABI.

use std::collections::HashMap;

use cranelift_codegen::entity::packed_option::ReservedValue;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, Signature, Type, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{FuncId, Linkage, Module, ModuleError};
use fc_runtime::insn::{Cond, Operand, Reg, Size, Width};
use fc_runtime::memory::Access;
use fc_runtime::memory::SLOT_SHIFT;
use fc_runtime::native::{offsets, FLAG_BUDGET_OFF};
use fc_runtime::verifier::{Instruction, VerifiedProgram};

use crate::backend::plan::{self, Binary, Charge, Check, Compute, Fallback, Flag, Shift, Step, Trap, Update};

use crate::backend::symbols::Symbols;

const I64: Type = types::I64;
const I32: Type = types::I32;

/// Why translation failed (only Cranelift itself can refuse a verified program).
#[derive(Debug)]
pub struct LowerError(pub String);

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ModuleError> for LowerError {
    fn from(e: ModuleError) -> Self {
        LowerError(e.to_string())
    }
}

/// The functions a lowering produced: internal ones by eBPF function index, and
/// the exported entry wrappers by name.
pub struct Lowered {
    pub internal: Vec<FuncId>,
    pub exported: Vec<(String, FuncId)>,
}

fn internal_signature(call_conv: CallConv, ptr: Type) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(ptr));
    // r1..r5 and r10.
    sig.params.extend([AbiParam::new(I64); 6]);
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// `fc_entry_fn`: (env, r1, r2) -> r0.
pub fn entry_signature(call_conv: CallConv, ptr: Type) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(ptr));
    sig.params.extend([AbiParam::new(I64); 2]);
    sig.returns.push(AbiParam::new(I64));
    sig
}

fn helper_signature(call_conv: CallConv, ptr: Type) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(I32));
    sig.params.extend([AbiParam::new(I64); 5]);
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// What [`lower`] can list of each function it defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// The Cranelift IR.
    Clif,
    /// The machine code, disassembled (Cranelift's `disas`, through capstone).
    Asm,
}

/// Declares and defines every function of `program` in `module` (named by `symbols`),
/// and an exported wrapper named `name` for each `(name, function index)` of `entries`.
/// `listing` receives each function's IR text or disassembly when asked for.
pub fn lower<M: Module>(
    module: &mut M,
    program: &VerifiedProgram,
    symbols: &Symbols,
    entries: &[(String, usize)],
    mut listing: Option<(Listing, &mut String)>,
) -> Result<Lowered, LowerError> {
    let call_conv = module.isa().default_call_conv();
    let ptr = module.isa().pointer_type();
    let frontend = module.isa().frontend_config();
    let internal_sig = internal_signature(call_conv, ptr);
    let internal: Vec<FuncId> = program
        .functions()
        .iter()
        .map(|f| module.declare_function(&symbols.private_function(f.start), Linkage::Local, &internal_sig).map_err(LowerError::from))
        .collect::<Result<_, _>>()?;
    let mut ctx = module.make_context();
    let mut fbc = FunctionBuilderContext::new();
    for (index, &id) in internal.iter().enumerate() {
        ctx.func.signature = internal_sig.clone();
        let callees: Vec<_> = internal.iter().map(|&f| module.declare_func_in_func(f, &mut ctx.func)).collect();
        let builder = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let helper_sig = helper_signature(call_conv, ptr);
        FunctionLowering::new(builder, program, index, ptr, helper_sig, callees).lower(frontend);
        let start = program.functions()[index].start;
        define(module, id, &symbols.private_function(start), &mut ctx, &mut listing)
            .map_err(|e| LowerError(format!("function at insn {start}: {e}")))?;
    }
    let entry_sig = entry_signature(call_conv, ptr);
    let mut exported = Vec::new();
    for (name, function) in entries {
        let id = module.declare_function(name, Linkage::Export, &entry_sig)?;
        ctx.func.signature = entry_sig.clone();
        let callee = module.declare_func_in_func(internal[*function], &mut ctx.func);
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let p = b.block_params(block).to_vec();
        let zero = b.ins().iconst(I64, 0);
        let top = b.ins().load(I64, MemFlagsData::trusted(), p[0], offsets::STACK_TOP as i32);
        let call = b.ins().call(callee, &[p[0], p[1], p[2], zero, zero, zero, top]);
        let r0 = b.inst_results(call)[0];
        b.ins().return_(&[r0]);
        b.finalize(frontend);
        define(module, id, name, &mut ctx, &mut listing).map_err(|e| LowerError(format!("{name}: {e}")))?;
        exported.push((name.clone(), id));
    }
    Ok(Lowered { internal, exported })
}

/// Compiles the function built in `ctx` as `id` (symbol `name`), adding it to `listing`.
fn define<M: Module>(module: &mut M, id: FuncId, name: &str, ctx: &mut Context, listing: &mut Option<(Listing, &mut String)>) -> Result<(), String> {
    if let Some((Listing::Clif, text)) = listing {
        text.push_str(&ctx.func.display().to_string());
        text.push('\n');
    }
    module.define_function(id, ctx).map_err(|e| format!("{e:?}"))?;
    if let Some((Listing::Asm, text)) = listing {
        let capstone = module.isa().to_capstone().map_err(|e| format!("disassembler: {e}"))?;
        let code = ctx.compiled_code().ok_or("no code was compiled")?;
        let disassembly = code.disassemble(Some(&ctx.func.params), &capstone).map_err(|e| format!("disassembler: {e}"))?;
        text.push_str(&format!("{name}:\n{disassembly}\n"));
    }
    module.clear_context(ctx);
    Ok(())
}

struct FunctionLowering<'a, 'p> {
    b: FunctionBuilder<'a>,
    program: &'p VerifiedProgram<'p>,
    function: usize,
    ptr: Type,
    helper_sig: Signature,
    callees: Vec<cranelift_codegen::ir::FuncRef>,
    regs: [Variable; 11],
    budget: Variable,
    env: Value,
    frame_size: Value,
    blocks: HashMap<usize, Block>,
    /// Shared fault exit: (error code, slot index).
    trap: Block,
}

fn args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl<'a, 'p> FunctionLowering<'a, 'p> {
    fn new(
        mut b: FunctionBuilder<'a>,
        program: &'p VerifiedProgram<'p>,
        function: usize,
        ptr: Type,
        helper_sig: Signature,
        callees: Vec<cranelift_codegen::ir::FuncRef>,
    ) -> Self {
        let regs = std::array::from_fn(|_| b.declare_var(I64));
        let budget = b.declare_var(I64);
        let trap = b.create_block();
        // Set from the entry block's parameters in `lower`.
        let placeholder = Value::reserved_value();
        FunctionLowering {
            b,
            program,
            function,
            ptr,
            helper_sig,
            callees,
            regs,
            budget,
            env: placeholder,
            frame_size: placeholder,
            blocks: HashMap::new(),
            trap,
        }
    }

    fn reg(&mut self, r: Reg) -> Value {
        self.b.use_var(self.regs[r.index()])
    }

    fn set(&mut self, r: Reg, v: Value) {
        self.b.def_var(self.regs[r.index()], v);
    }

    fn lower(mut self, frontend: TargetFrontendConfig) {
        let f = &self.program.functions()[self.function];
        let (start, end) = (f.start, f.end);
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        for pc in start..end {
            if pc == start || self.program.is_leader(pc) {
                let block = self.b.create_block();
                self.blocks.insert(pc, block);
            }
        }
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let p = self.b.block_params(entry).to_vec();
        self.env = p[0];
        let zero = self.b.ins().iconst(I64, 0);
        for r in [0usize, 6, 7, 8, 9] {
            self.b.def_var(self.regs[r], zero);
        }
        for (reg, &value) in self.regs[1..=5].iter().zip(&p[1..=5]) {
            self.b.def_var(*reg, value);
        }
        self.b.def_var(self.regs[10], p[6]);
        let budget = self.b.ins().load(I64, MemFlagsData::trusted(), self.env, offsets::BUDGET as i32);
        self.b.def_var(self.budget, budget);
        self.frame_size = self.b.ins().load(I64, MemFlagsData::trusted(), self.env, offsets::FRAME_SIZE as i32);
        self.b.ins().jump(self.blocks[&start], &[]);

        let mut open = false;
        let program = self.program;
        for insn in program.body(self.function) {
            if let Some(&block) = self.blocks.get(&insn.slot()) {
                if open {
                    self.b.ins().jump(block, &[]);
                }
                self.b.switch_to_block(block);
                open = true;
            }
            if open {
                open = self.instruction(insn);
            }
        }
        // Verified code never falls off its function; close the last block if it did.
        if open {
            self.b.ins().return_(&[zero]);
        }
        self.build_trap();
        self.b.seal_all_blocks();
        self.b.finalize(frontend);
    }

    fn build_trap(&mut self) {
        self.b.append_block_param(self.trap, I32);
        self.b.append_block_param(self.trap, I32);
        self.b.switch_to_block(self.trap);
        let p = self.b.block_params(self.trap).to_vec();
        let flags = MemFlagsData::trusted();
        self.b.ins().store(flags, p[0], self.env, offsets::ERROR as i32);
        self.b.ins().store(flags, p[1], self.env, offsets::ERROR_PC as i32);
        let zero = self.b.ins().iconst(I64, 0);
        self.b.ins().return_(&[zero]);
    }

    /// Continues in a new block when `fail` is false; otherwise leaves through the trap.
    fn check(&mut self, fail: Value, trap: Trap) {
        // The error code and slot are materialised in a cold block of their own,
        // so the hot path is the compare and the branch.
        let (ok, cold) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(cold);
        self.b.ins().brif(fail, cold, &[], ok, &[]);
        self.b.switch_to_block(cold);
        let code = self.b.ins().iconst(I32, trap.code.code() as i64);
        let pc = self.b.ins().iconst(I32, trap.slot as i64);
        self.b.ins().jump(self.trap, &args(&[code, pc]));
        self.b.switch_to_block(ok);
    }

    fn spill_budget(&mut self) {
        let budget = self.b.use_var(self.budget);
        self.b.ins().store(MemFlagsData::trusted(), budget, self.env, offsets::BUDGET as i32);
    }

    fn reload_budget(&mut self) {
        let budget = self.b.ins().load(I64, MemFlagsData::trusted(), self.env, offsets::BUDGET as i32);
        self.b.def_var(self.budget, budget);
    }

    fn return_r0(&mut self) {
        let r0 = self.reg(Reg::R0);
        self.b.ins().return_(&[r0]);
    }

    /// A taken jump: the budget charge, then on to the target block.
    /// At 0 the countdown runs out, unless the budget is off (`FLAG_BUDGET_OFF`): then it
    /// starts a new round. Both are cold; the hot path is the compare and the decrement.
    fn take(&mut self, charge: Charge, target: usize) {
        let budget = self.b.use_var(self.budget);
        let empty = self.b.ins().icmp_imm_s(IntCC::Equal, budget, 0);
        let (ok, cold, refill) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(cold);
        self.b.set_cold_block(refill);
        self.b.ins().brif(empty, cold, &[], ok, &[]);
        self.b.switch_to_block(cold);
        let flags = self.b.ins().load(I32, MemFlagsData::trusted(), self.env, offsets::FLAGS as i32);
        let off = self.b.ins().band_imm_u(flags, FLAG_BUDGET_OFF as i64);
        let code = self.b.ins().iconst(I32, charge.trap.code.code() as i64);
        let slot = self.b.ins().iconst(I32, charge.trap.slot as i64);
        self.b.ins().brif(off, refill, &[], self.trap, &args(&[code, slot]));
        self.b.switch_to_block(refill);
        let full = self.b.ins().iconst(I64, -1);
        self.b.def_var(self.budget, full);
        self.b.ins().jump(ok, &[]);
        self.b.switch_to_block(ok);
        let budget = self.b.use_var(self.budget);
        let left = self.b.ins().iadd_imm_s(budget, -1);
        self.b.def_var(self.budget, left);
        self.b.ins().jump(self.blocks[&target], &[]);
    }

    /// The host address of the access `check` allows, after the region check.
    fn address(&mut self, check: Check) -> Value {
        let base = self.reg(check.base);
        let addr = self.b.ins().iadd_imm_s(base, check.off as i64);
        let slot = self.b.ins().ushr_imm_u(addr, SLOT_SHIFT as i64);
        let slot = self.b.ins().band_imm_u(slot, 15);
        let start = self.b.ins().ishl_imm_u(slot, SLOT_SHIFT as i64);
        let offset = self.b.ins().isub(addr, start);
        let scaled = self.b.ins().imul_imm_u(slot, offsets::REGION_SIZE as i64);
        let scaled = if self.ptr == I64 { scaled } else { self.b.ins().ireduce(self.ptr, scaled) };
        let region = self.b.ins().iadd(self.env, scaled);
        let flags = MemFlagsData::trusted();
        let len = self.b.ins().uload32(flags, region, offsets::REGION_LEN as i32);
        let end = self.b.ins().iadd_imm_s(offset, check.bytes as i64);
        // Upper address bits give an offset of at least 2^32: past every length.
        let outside = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
        self.check(outside, check.trap);
        if check.access != Access::Read {
            let writable = self.b.ins().load(I32, flags, region, offsets::REGION_WRITABLE as i32);
            let denied = self.b.ins().icmp_imm_s(IntCC::Equal, writable, 0);
            self.check(denied, check.trap);
        }
        let host = self.b.ins().load(self.ptr, flags, region, offsets::REGION_BASE as i32);
        let offset = if self.ptr == I64 { offset } else { self.b.ins().ireduce(self.ptr, offset) };
        self.b.ins().iadd(host, offset)
    }

    fn load(&mut self, size: Size, p: Value) -> Value {
        let f = MemFlagsData::new();
        match size {
            Size::B => self.b.ins().uload8(I64, f, p, 0),
            Size::H => self.b.ins().uload16(I64, f, p, 0),
            Size::W => self.b.ins().uload32(f, p, 0),
            Size::DW => self.b.ins().load(I64, f, p, 0),
        }
    }

    fn store(&mut self, size: Size, v: Value, p: Value) {
        let f = MemFlagsData::new();
        match size {
            Size::B => self.b.ins().istore8(f, v, p, 0),
            Size::H => self.b.ins().istore16(f, v, p, 0),
            Size::W => self.b.ins().istore32(f, v, p, 0),
            Size::DW => self.b.ins().store(f, v, p, 0),
        };
    }

    fn operand(&mut self, width: Width, src: Operand) -> Value {
        let ty = if width == Width::W64 { I64 } else { I32 };
        match src {
            Operand::Imm(i) => self.b.ins().iconst(ty, i as i64 & if ty == I32 { 0xffff_ffff } else { -1 }),
            Operand::Reg(r) => {
                let v = self.reg(r);
                if ty == I32 { self.b.ins().ireduce(I32, v) } else { v }
            }
        }
    }

    fn binary(&mut self, op: Binary, a: Value, s: Value) -> Value {
        let b = &mut self.b;
        match op {
            Binary::Add => b.ins().iadd(a, s),
            Binary::Sub => b.ins().isub(a, s),
            Binary::Mul => b.ins().imul(a, s),
            Binary::Or => b.ins().bor(a, s),
            Binary::And => b.ins().band(a, s),
            Binary::Xor => b.ins().bxor(a, s),
        }
    }

    fn fallback(&mut self, f: Fallback, ty: Type, a: Value) -> Value {
        match f {
            Fallback::Zero => self.b.ins().iconst(ty, 0),
            Fallback::Dividend => a,
            Fallback::Negated => self.b.ins().ineg(a),
        }
    }

    fn alu(&mut self, ty: Type, compute: Compute, a: Value, s: Value) -> Value {
        match compute {
            Compute::Binary(op) => self.binary(op, a, s),
            Compute::Move => s,
            Compute::Shift { op, mask } => {
                let amount = self.b.ins().band_imm_u(s, mask as i64);
                match op {
                    Shift::Left => self.b.ins().ishl(a, amount),
                    Shift::Right => self.b.ins().ushr(a, amount),
                    Shift::Arithmetic => self.b.ins().sshr(a, amount),
                }
            }
            Compute::Divide { signed, remainder, by_zero, by_minus_one } => {
                // The machine never sees the divisors the plan gives results for (it would
                // trap): they are replaced by 1, and the fallbacks selected afterwards.
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, s, 0);
                let minus_one = by_minus_one.map(|f| (f, self.b.ins().icmp_imm_s(IntCC::Equal, s, -1)));
                let special = match minus_one {
                    Some((_, m)) => self.b.ins().bor(zero, m),
                    None => zero,
                };
                let one = self.b.ins().iconst(ty, 1);
                let safe = self.b.ins().select(special, one, s);
                let mut r = match (signed, remainder) {
                    (false, false) => self.b.ins().udiv(a, safe),
                    (false, true) => self.b.ins().urem(a, safe),
                    (true, false) => self.b.ins().sdiv(a, safe),
                    (true, true) => self.b.ins().srem(a, safe),
                };
                if let Some((f, m)) = minus_one {
                    let v = self.fallback(f, ty, a);
                    r = self.b.ins().select(m, v, r);
                }
                let v = self.fallback(by_zero, ty, a);
                self.b.ins().select(zero, v, r)
            }
        }
    }

    fn widen(&mut self, ty: Type, v: Value) -> Value {
        if ty == I64 { v } else { self.b.ins().uextend(I64, v) }
    }

    fn narrow(&mut self, width: Width, v: Value) -> (Type, Value) {
        match width {
            Width::W64 => (I64, v),
            Width::W32 => (I32, self.b.ins().ireduce(I32, v)),
        }
    }

    /// Lowers one instruction, step by step; false when it ended the block.
    fn instruction(&mut self, insn: &Instruction) -> bool {
        for step in plan::steps(insn).iter() {
            self.step(step);
            if step.ends_block() {
                return false;
            }
        }
        true
    }

    fn int_type(bits: u32) -> Type {
        match bits {
            8 => types::I8,
            16 => types::I16,
            32 => I32,
            _ => I64,
        }
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Alu { width, dst, src, compute } => {
                let s = self.operand(width, src);
                let d = self.reg(dst);
                let (ty, a) = self.narrow(width, d);
                let r = self.alu(ty, compute, a, s);
                let r = self.widen(ty, r);
                self.set(dst, r);
            }
            Step::SignExtend { width, dst, src, from } => {
                let v = self.reg(src);
                let v = self.b.ins().ireduce(Self::int_type(from.bits()), v);
                let r = match width {
                    Width::W64 => self.b.ins().sextend(I64, v),
                    Width::W32 => {
                        let v = self.b.ins().sextend(I32, v);
                        self.b.ins().uextend(I64, v)
                    }
                };
                self.set(dst, r);
            }
            Step::Neg { width, dst } => {
                let d = self.reg(dst);
                let (ty, a) = self.narrow(width, d);
                let r = self.b.ins().ineg(a);
                let r = self.widen(ty, r);
                self.set(dst, r);
            }
            Step::ZeroExtend { dst, bits } | Step::ByteSwap { dst, bits } => {
                let d = self.reg(dst);
                let ty = Self::int_type(bits);
                let v = if ty == I64 { d } else { self.b.ins().ireduce(ty, d) };
                let v = if matches!(step, Step::ByteSwap { .. }) { self.b.ins().bswap(v) } else { v };
                let r = if ty == I64 { v } else { self.b.ins().uextend(I64, v) };
                self.set(dst, r);
            }
            Step::Const { dst, value } => {
                let v = self.b.ins().iconst(I64, value as i64);
                self.set(dst, v);
            }
            Step::Load { dst, size, signed: false, check } => {
                let p = self.address(check);
                let v = self.load(size, p);
                self.set(dst, v);
            }
            Step::Load { dst, size, signed: true, check } => {
                let p = self.address(check);
                let f = MemFlagsData::new();
                let v = match size {
                    Size::B => self.b.ins().sload8(I64, f, p, 0),
                    Size::H => self.b.ins().sload16(I64, f, p, 0),
                    Size::W => self.b.ins().sload32(f, p, 0),
                    Size::DW => self.b.ins().load(I64, f, p, 0),
                };
                self.set(dst, v);
            }
            Step::Store { size, src, check } => {
                let p = self.address(check);
                let v = self.operand(Width::W64, src);
                self.store(size, v, p);
            }
            Step::Atomic { width, update, src, result, check } => {
                let size = if width == Width::W64 { Size::DW } else { Size::W };
                let p = self.address(check);
                let old = self.load(size, p);
                let operand = self.reg(src);
                let new = match update {
                    Update::Binary(op) => self.binary(op, old, operand),
                    Update::Exchange => operand,
                    Update::CompareExchange { expected } => {
                        let e = self.reg(expected);
                        let expected = if width == Width::W32 {
                            let low = self.b.ins().ireduce(I32, e);
                            self.b.ins().uextend(I64, low)
                        } else {
                            e
                        };
                        let equal = self.b.ins().icmp(IntCC::Equal, old, expected);
                        self.b.ins().select(equal, operand, old)
                    }
                };
                self.store(size, new, p);
                if let Some(r) = result {
                    self.set(r, old);
                }
            }
            Step::Jump { target, charge } => self.take(charge, target),
            Step::Branch { width, cond, dst, src, target, next, charge } => {
                let s = self.operand(width, src);
                let d = self.reg(dst);
                let (_, a) = self.narrow(width, d);
                let taken = match cond {
                    Cond::Set => {
                        let both = self.b.ins().band(a, s);
                        self.b.ins().icmp_imm_s(IntCC::NotEqual, both, 0)
                    }
                    _ => {
                        let cc = match cond {
                            Cond::Eq => IntCC::Equal,
                            Cond::Ne => IntCC::NotEqual,
                            Cond::Gt => IntCC::UnsignedGreaterThan,
                            Cond::Ge => IntCC::UnsignedGreaterThanOrEqual,
                            Cond::Lt => IntCC::UnsignedLessThan,
                            Cond::Le => IntCC::UnsignedLessThanOrEqual,
                            Cond::Sgt => IntCC::SignedGreaterThan,
                            Cond::Sge => IntCC::SignedGreaterThanOrEqual,
                            Cond::Slt => IntCC::SignedLessThan,
                            Cond::Sle | Cond::Set => IntCC::SignedLessThanOrEqual,
                        };
                        self.b.ins().icmp(cc, a, s)
                    }
                };
                let take = self.b.create_block();
                let next = self.blocks[&next];
                self.b.ins().brif(taken, take, &[], next, &[]);
                self.b.switch_to_block(take);
                self.take(charge, target);
            }
            Step::SpillBudget => self.spill_budget(),
            Step::ReloadBudget => self.reload_budget(),
            Step::CallHelper { id } => {
                let sig = self.b.import_signature(self.helper_sig.clone());
                let f = self.b.ins().load(self.ptr, MemFlagsData::trusted(), self.env, offsets::HELPER as i32);
                let id = self.b.ins().iconst(I32, id as i64);
                let mut call_args = vec![self.env, id];
                for n in 1..=5 {
                    call_args.push(self.b.use_var(self.regs[n]));
                }
                let call = self.b.ins().call_indirect(sig, f, &call_args);
                let r0 = self.b.inst_results(call)[0];
                self.set(Reg::R0, r0);
            }
            Step::CallLocal { callee } => {
                let mut call_args = vec![self.env];
                for n in 1..=5 {
                    call_args.push(self.b.use_var(self.regs[n]));
                }
                let r10 = self.reg(Reg::R10);
                let r10 = self.b.ins().isub(r10, self.frame_size);
                call_args.push(r10);
                let call = self.b.ins().call(self.callees[callee], &call_args);
                let r0 = self.b.inst_results(call)[0];
                self.set(Reg::R0, r0);
            }
            Step::LeaveIf { flags, record_slot } => {
                for flag in flags {
                    let offset = match flag {
                        Flag::Error => offsets::ERROR,
                        Flag::Stop => offsets::STOP,
                    };
                    self.leave_if(offset, record_slot);
                }
            }
            Step::Return => self.return_r0(),
        }
    }

    /// Returns r0 at once when the 32-bit field at `offset` of the environment is set,
    /// after recording `record_slot` as the fault's slot when given. The way out is cold.
    fn leave_if(&mut self, offset: usize, record_slot: Option<usize>) {
        let flag = self.b.ins().load(I32, MemFlagsData::trusted(), self.env, offset as i32);
        let leave = self.b.create_block();
        let go_on = self.b.create_block();
        self.b.set_cold_block(leave);
        self.b.ins().brif(flag, leave, &[], go_on, &[]);
        self.b.switch_to_block(leave);
        if let Some(slot) = record_slot {
            let slot = self.b.ins().iconst(I32, slot as i64);
            self.b.ins().store(MemFlagsData::trusted(), slot, self.env, offsets::ERROR_PC as i32);
        }
        self.return_r0();
        self.b.switch_to_block(go_on);
    }
}
