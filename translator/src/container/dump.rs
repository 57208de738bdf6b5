//! `rbpf-dump`: the seed's text dump of a container, and the same facts as JSON.

use std::fmt::Write;

use fc_runtime::format::{Container, Layout};
use fc_runtime::helpers::{Profile, FIRST_APP_HELPER};
use fc_runtime::insn::{self, Decoder, Op, SLOT};
use serde_json::{json, Value};

/// How the dump writes helper calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calls {
    /// By number, as the seed's printer does: `Call 19`.
    Numbered,
    /// By name under a profile's numbering, as bpftool does: `call bpf_fetch_local#19`
    /// (0x13 is fetch_local for Sming, fetch_global for RIOT), `call app_helper#256`
    /// for application helpers, `call unknown#7` for ids the profile does not give.
    Named(Profile),
}

fn named_call(profile: Profile, id: u32) -> String {
    match profile.builtin(id) {
        Some(helper) => format!("call {}#{id}", helper.name()),
        None if id >= FIRST_APP_HELPER => format!("call app_helper#{id}"),
        None => format!("call unknown#{id}"),
    }
}

/// One line of the text section: an instruction or a slot that does not decode.
struct Row<'a> {
    pc: usize,
    bytes: &'a [u8],
    /// `None` when the slot is invalid.
    text: Option<String>,
}

fn rows<'a>(c: &Container<'a>, calls: Calls) -> Vec<Row<'a>> {
    let names = |slot: usize| c.functions().find(|f| f.slot() == slot).map(|f| f.name);
    Decoder::new(c.text)
        .map(|r| match r {
            Ok(i) => Row {
                pc: i.pc,
                bytes: &c.text[i.pc * SLOT..(i.pc + i.op.slots()) * SLOT],
                text: Some(match (calls, i.op) {
                    (Calls::Named(profile), Op::CallHelper { id }) => named_call(profile, id),
                    _ => i.op.display(i.pc, &names).to_string(),
                }),
            },
            Err(e) => Row { pc: e.pc, bytes: &c.text[e.pc * SLOT..(e.pc + 1) * SLOT], text: None },
        })
        .collect()
}

fn hex_pairs(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn byte_rows(out: &mut String, bytes: &[u8]) {
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let cells: Vec<String> = chunk.iter().map(|b| format!("0x{b:02x}")).collect();
        let _ = writeln!(out, "{:>5}: {}", format!("{:x}", i * 8), cells.join(" "));
    }
}

/// The dump text exactly as the seed shows it (tabs included), helper calls written as `calls` says.
pub fn text(c: &Container, calls: Calls) -> String {
    let h = &c.header;
    let mut out = String::new();
    let _ = writeln!(out, "Magic:\t\t0x{:08x}", h.magic);
    let _ = writeln!(out, "Version:\t{}", h.version);
    let _ = writeln!(out, "flags:\t0x{:x}", h.flags);
    let _ = writeln!(out, "Data length:\t{} B", h.data_len);
    if c.layout == Layout::Sming32 {
        let _ = writeln!(out, "BSS length:\t{} B", h.bss_len);
    }
    let _ = writeln!(out, "RoData length:\t{} B", h.rodata_len);
    let _ = writeln!(out, "Text length:\t{} B", h.text_len);
    let _ = writeln!(out, "No. functions:\t{}", h.functions);
    out.push_str("\nfunctions:\n");
    for f in c.functions() {
        let _ = writeln!(out, "\t\"{}\": 0x{:x}", f.name, f.location);
    }
    out.push_str("\ndata:\n");
    byte_rows(&mut out, c.data);
    out.push_str("\nrodata:\n");
    byte_rows(&mut out, c.rodata);
    out.push_str("\ntext:\n");
    for row in rows(c, calls) {
        for f in c.functions().filter(|f| f.slot() == row.pc) {
            let _ = writeln!(out, "<{}>", f.name);
        }
        let addr = format!("0x{:x}", row.pc * SLOT);
        let text = row.text.as_deref().unwrap_or("<invalid>");
        let _ = writeln!(out, "{addr:>7}:\t{} {text}", hex_pairs(row.bytes));
    }
    out
}

/// The same facts as [`text`], as a JSON value.
pub fn json(file: &str, c: &Container, calls: Calls) -> Value {
    let h = &c.header;
    let instructions: Vec<Value> = rows(c, calls)
        .into_iter()
        .map(|r| {
            let function = c.functions().find(|f| f.slot() == r.pc).map(|f| f.name);
            json!({
                "pc": r.pc,
                "offset": r.pc * SLOT,
                "bytes": hex_pairs(r.bytes),
                "valid": r.text.is_some(),
                "text": r.text.unwrap_or_else(|| "<invalid>".into()),
                "error": insn::decode(c.text, r.pc).err().map(|e| e.kind.to_string()),
                "function": function,
            })
        })
        .collect();
    json!({
        "file": file,
        "layout": c.layout.name(),
        "magic": h.magic,
        "version": h.version,
        "flags": h.flags,
        "data_length": h.data_len,
        "bss_length": h.bss_len,
        "rodata_length": h.rodata_len,
        "text_length": h.text_len,
        "functions": c.functions().map(|f| json!({"name": f.name, "location": f.location})).collect::<Vec<_>>(),
        "data": c.data,
        "rodata": c.rodata,
        "text": instructions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_calls_are_named_by_the_profile() {
        assert_eq!(named_call(Profile::Sming, 0x13), "call bpf_fetch_local#19");
        assert_eq!(named_call(Profile::Riot, 0x13), "call bpf_fetch_global#19");
        assert_eq!(named_call(Profile::Sming, 0x01), "call bpf_printf#1");
        assert_eq!(named_call(Profile::Sming, 0x100), "call app_helper#256");
        assert_eq!(named_call(Profile::Sming, 7), "call unknown#7");
        assert_eq!(named_call(Profile::Conformance, 5), "call bpf_unwind#5");
    }
}
