//! Differential property test: random valid programs on every engine, compared with the reference.
//!
//! Programs cover every instruction class, loops (bounded by a random budget, so
//! OUT_OF_BRANCHES must strike at the same jump), loads and stores inside and
//! outside the regions, helper calls, and local calls. Failing cases shrink and
//! proptest keeps them in `proptest-regressions/differential.txt`, which is replayed
//! on every run.

mod common;

use common::every_engine::{capture, execute, new_vm, on_engines};
use fc_aot::target::EngineKind;
use fc_runtime::helpers::Profile;
use fc_runtime::insn::{AluOp, AtomicOp, ByteOrder, Cond, Op, Operand, Reg, Size, SwapWidth, SxSize, Width};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::Parts;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// An instruction before layout: jumps name an instruction index of their
/// function and calls name a callee, so shrinking keeps programs valid.
#[derive(Clone, Debug)]
enum Gen {
    Plain(Op),
    /// Conditional jump to instruction `target` (an index, reduced modulo the function length).
    Jump { width: Width, cond: Cond, dst: Reg, src: Operand, target: usize },
    Ja { target: usize },
    Call { callee: usize },
}

fn reg(max: u8) -> impl Strategy<Value = Reg> {
    (0..=max).prop_map(|n| Reg::new(n).unwrap())
}

fn width() -> impl Strategy<Value = Width> {
    prop_oneof![Just(Width::W32), Just(Width::W64)]
}

fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![-8..8i32, any::<i32>(), Just(i32::MIN), Just(-1), 0..70i32]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![reg(10).prop_map(Operand::Reg), imm().prop_map(Operand::Imm)]
}

fn size() -> impl Strategy<Value = Size> {
    prop_oneof![Just(Size::B), Just(Size::H), Just(Size::W), Just(Size::DW)]
}

fn sx() -> impl Strategy<Value = SxSize> {
    prop_oneof![Just(SxSize::B), Just(SxSize::H), Just(SxSize::W)]
}

/// A base register and an offset that lands near (inside, at the edges of, or
/// outside) the stack or the context.
fn address() -> impl Strategy<Value = (Reg, i16)> {
    prop_oneof![
        3 => (Just(Reg::R10), -520..8i16),
        3 => (Just(Reg::R1), -4..72i16),
        1 => (reg(10), any::<i16>()),
    ]
}

/// Helper ids of the sming profile, and one application helper.
fn helper() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0x01), Just(0x02), Just(0x10), Just(0x11), Just(0x12), Just(0x13), Just(0x20), Just(0x100)]
}

fn plain() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (width(), proptest::sample::select(AluOp::ALL.to_vec()), reg(9), operand())
            .prop_map(|(width, op, dst, src)| Op::Alu { width, op, dst, src }),
        1 => (width(), reg(9), reg(10), sx()).prop_map(|(width, dst, src, from)| {
            let from = if width == Width::W32 && from == SxSize::W { SxSize::H } else { from };
            Op::MovSx { width, dst, src, from }
        }),
        1 => (width(), reg(9)).prop_map(|(width, dst)| Op::Neg { width, dst }),
        1 => (prop_oneof![Just(ByteOrder::ToLe), Just(ByteOrder::ToBe), Just(ByteOrder::Swap)],
              reg(9), prop_oneof![Just(SwapWidth::W16), Just(SwapWidth::W32), Just(SwapWidth::W64)])
            .prop_map(|(order, dst, width)| Op::End { order, dst, width }),
        1 => (reg(9), any::<u64>()).prop_map(|(dst, imm)| Op::Lddw { dst, imm }),
        1 => (reg(9), 0..40u64).prop_map(|(dst, offset)| Op::LddwData { dst, offset }),
        1 => (reg(9), 0..24u64).prop_map(|(dst, offset)| Op::LddwRodata { dst, offset }),
        4 => (size(), reg(9), address()).prop_map(|(size, dst, (src, off))| Op::Load { size, dst, src, off }),
        1 => (sx(), reg(9), address()).prop_map(|(size, dst, (src, off))| Op::LoadSx { size, dst, src, off }),
        4 => (size(), address(), operand()).prop_map(|(size, (dst, off), src)| Op::Store { size, dst, off, src }),
        1 => (width(), proptest::sample::select(AtomicOp::ALL.to_vec()), address(), reg(9))
            .prop_map(|(width, op, (dst, off), src)| Op::Atomic { width, op, dst, src, off }),
        1 => helper().prop_map(|id| Op::CallHelper { id }),
    ]
}

fn gen(callees: usize) -> impl Strategy<Value = Gen> {
    prop_oneof![
        12 => plain().prop_map(Gen::Plain),
        3 => (width(), proptest::sample::select(Cond::ALL.to_vec()), reg(9), operand(), any::<usize>())
            .prop_map(|(width, cond, dst, src, target)| Gen::Jump { width, cond, dst, src, target }),
        1 => any::<usize>().prop_map(|target| Gen::Ja { target }),
        1 => (0..callees.max(1)).prop_map(|callee| Gen::Call { callee }),
        1 => Just(Gen::Plain(Op::Exit)),
    ]
}

/// Registers a callee must define before it reads them (r0 and r6-r9 start undefined).
fn prologue() -> Vec<Gen> {
    [0u8, 6, 7, 8, 9]
        .iter()
        .map(|&n| Gen::Plain(Op::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::new(n).unwrap(), src: Operand::Imm(n as i32) }))
        .collect()
}

/// Lays out functions (main first) into text. After every local call r1-r5 are
/// redefined, since the call leaves them undefined; every function ends in exit.
fn layout(functions: &[Vec<Gen>], with_calls: bool) -> Vec<u8> {
    let expand = |f: &Vec<Gen>, callee: bool| -> Vec<Gen> {
        let mut body = if callee { prologue() } else { Vec::new() };
        for g in f {
            match g {
                Gen::Call { .. } if !with_calls => continue,
                Gen::Call { .. } => {
                    body.push(g.clone());
                    for n in 1..=5u8 {
                        let dst = Reg::new(n).unwrap();
                        body.push(Gen::Plain(Op::Alu { width: Width::W64, op: AluOp::Mov, dst, src: Operand::Imm(n as i32 * 8) }));
                    }
                }
                _ => body.push(g.clone()),
            }
        }
        body.push(Gen::Plain(Op::Exit));
        body
    };
    let bodies: Vec<Vec<Gen>> = functions.iter().enumerate().map(|(i, f)| expand(f, i > 0)).collect();
    let slots = |g: &Gen| if let Gen::Plain(op) = g { op.slots() } else { 1 };
    // Slot index of every instruction, per function.
    let mut starts = Vec::new();
    let mut at = Vec::new();
    let mut next = 0usize;
    for body in &bodies {
        starts.push(next);
        at.push(body.iter().map(|g| { let s = next; next += slots(g); s }).collect::<Vec<_>>());
    }
    let mut text = Vec::new();
    for (f, body) in bodies.iter().enumerate() {
        for (i, g) in body.iter().enumerate() {
            let pc = at[f][i] as i64;
            let target = |t: usize| at[f][t % body.len()] as i64 - pc - 1;
            let op = match *g {
                Gen::Plain(op) => op,
                Gen::Jump { width, cond, dst, src, target: t } => Op::Jump { width, cond, dst, src, off: target(t) as i16 },
                Gen::Ja { target: t } => Op::Ja { off: target(t) as i16 },
                // Calls go only forward, to a later function: no recursion.
                Gen::Call { callee } => {
                    let later = bodies.len() - f - 1;
                    if later == 0 {
                        Op::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(77) }
                    } else {
                        Op::CallLocal { imm: (starts[f + 1 + callee % later] as i64 - pc - 1) as i32 }
                    }
                }
            };
            text.extend_from_slice(op.encode().as_bytes());
        }
    }
    text
}

fn program() -> impl Strategy<Value = Vec<Vec<Gen>>> {
    (0..3usize).prop_flat_map(|callees| {
        let main = proptest::collection::vec(gen(callees), 1..40);
        let others = proptest::collection::vec(proptest::collection::vec(gen(callees), 0..12), callees);
        (main, others).prop_map(|(main, others)| std::iter::once(main).chain(others).collect())
    })
}

const DATA: [u8; 20] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const RODATA: [u8; 20] = *b"%d %x %s|hello\0\0\0\0\0\0";

/// Engines that build in process in milliseconds: each case runs on all of them.
const FAST: &[EngineKind] = &[EngineKind::Reference, EngineKind::Interp, EngineKind::Jit];

fn check(engines: &[EngineKind], text: &[u8], ctx: &[u8], budget: Option<u32>, globals: &[(u32, u32)]) {
    on_engines(engines, || {
        let stores = StoreContext::new();
        for &(k, v) in globals {
            stores.update(fc_runtime::stores::Owner::Global, k, v);
        }
        let mut vm = new_vm(&stores);
        vm.set_budget(budget);
        let env = vm.environment();
        env.set_profile(Profile::Sming);
        env.set_clock(|| 1234);
        env.register(0x100, 2, |args, mem| match mem.read(args[0], 4) {
            Some(b) => (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64).wrapping_add(args[1]),
            None => u64::MAX,
        });
        let _printed = capture(&mut vm);
        let parts = Parts { text, data: &DATA, bss_len: 8, rodata: &RODATA, functions: Vec::new() };
        assert!(vm.load_parts(parts, 512), "generated program rejected: {:?}", vm.load_error());
        let mut ctx = ctx.to_vec();
        execute(&mut vm, &mut ctx);
        // A second run sees the data section the first one left.
        execute(&mut vm, &mut ctx);
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn every_engine_agrees_with_the_reference(
        functions in program(),
        ctx in proptest::collection::vec(any::<u8>(), 0..64),
        budget in (0..300u32).prop_map(Some),
        globals in proptest::collection::vec((0..4u32, any::<u32>()), 0..3),
        calls in any::<bool>(),
    ) {
        check(FAST, &layout(&functions, calls), &ctx, budget, &globals);
    }
}

proptest! {
    // aot and c run the host's C compiler at every load: fewer cases, every engine.
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    #[test]
    fn every_engine_including_compiled_ones_agrees(
        functions in program(),
        ctx in proptest::collection::vec(any::<u8>(), 0..64),
        budget in (0..300u32).prop_map(Some),
        calls in any::<bool>(),
    ) {
        check(EngineKind::ALL, &layout(&functions, calls), &ctx, budget, &[(1, 7)]);
    }
}

#[test]
fn generated_programs_exercise_every_class() {
    // The generator must reach loops, faults and helper calls, or the property proves little.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (program(), any::<bool>());
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..400 {
        let (functions, calls) = strategy.new_tree(&mut runner).unwrap().current();
        let text = layout(&functions, calls);
        for insn in fc_runtime::insn::Decoder::new(&text).flatten() {
            let class = format!("{:?}", insn.op);
            seen.insert(class.split([' ', '{']).next().unwrap_or_default().to_string());
        }
    }
    for class in ["Alu", "MovSx", "Neg", "End", "Lddw", "LddwData", "LddwRodata", "Load", "LoadSx", "Store", "Atomic", "Ja", "Jump", "CallHelper", "CallLocal", "Exit"] {
        assert!(seen.contains(class), "the generator never made {class}: {seen:?}");
    }
}
