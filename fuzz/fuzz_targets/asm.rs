//! The assembler and disassembler:
//! - the input as instruction bytes: when every slot decodes, disassemble -> assemble
//!   gives back the identical bytes;
//! - the input as text (lossy UTF-8): assemble never panics, and what it assembles
//!   (callx aside, which does not decode) round-trips the same way.
#![no_main]

use fc_aot::text::asm::{assemble, CALLX_OPCODE};
use fc_aot::text::disasm::disassemble;
use libfuzzer_sys::fuzz_target;

fn round_trip(bytes: &[u8]) {
    if let Ok(text) = disassemble(bytes) {
        match assemble(&text) {
            Ok(again) => assert_eq!(again, bytes, "disassemble -> assemble changed the bytes:\n{text}"),
            Err(e) => panic!("the disassembly does not assemble: {e}\n{text}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    let source = String::from_utf8_lossy(data);
    if let Ok(bytes) = assemble(&source) {
        assert_eq!(bytes.len() % 8, 0);
        if disassemble(&bytes).is_err() {
            assert!(bytes.chunks(8).any(|s| s[0] == CALLX_OPCODE), "assembled bytes do not decode:\n{source}");
        }
        round_trip(&bytes);
    }
});
