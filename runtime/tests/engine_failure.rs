//! An engine that cannot prepare a verified program makes the load fail with a load
//! error that says which engine, its error code and, when the engine says, why: never
//! an empty message.

use fc_runtime::error::{ErrorCode, Trap};
use fc_runtime::format::{self, Image, Layout};
use fc_runtime::helpers::Helpers;
use fc_runtime::interp::{Engine, EngineFailure, Invocation};
use fc_runtime::memory::MemoryMap;
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::VerifiedProgram;
use fc_runtime::vm::LoadError;
use fc_runtime::VirtualMachine;

struct Refuses(Option<EngineFailure>);

impl Engine for Refuses {
    fn name(&self) -> &'static str {
        "refuses"
    }
    fn prepare(&mut self, _program: &VerifiedProgram) -> Result<(), ErrorCode> {
        Err(ErrorCode::NoMemory)
    }
    fn failure(&self) -> Option<&EngineFailure> {
        self.0.as_ref()
    }
    fn run(&mut self, _: &VerifiedProgram, _: &Invocation, _: &mut MemoryMap, _: &mut dyn Helpers) -> Result<u64, Trap> {
        Err(Trap { code: ErrorCode::NoMemory, pc: 0 })
    }
}

#[test]
fn a_failed_prepare_is_a_load_error_with_a_message() {
    let text = [[0xb7, 0, 0, 0, 1, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]].concat();
    let image = Image { data: vec![], bss_len: 0, rodata: vec![], text, functions: vec![("main".into(), 0)] };
    let bytes = format::write(&image, Layout::Seed).unwrap();
    let stores = StoreContext::new();
    for (reason, text) in [
        (Some(EngineFailure::Build("cc: exit status 1".into())), "engine `refuses` cannot build the program: cc: exit status 1"),
        (Some(EngineFailure::Unavailable("`cc` is not installed".into())), "engine `refuses` unavailable here: `cc` is not installed"),
        (None, "engine `refuses` cannot prepare the program (NO_MEMORY)"),
    ] {
        let mut vm = VirtualMachine::new(&stores);
        vm.set_engine(Box::new(Refuses(reason.clone())));
        assert!(!vm.load(&bytes, 512));
        assert_eq!(vm.last_error(), ErrorCode::NoMemory.code());
        let error = vm.load_error().expect("a load error");
        assert_eq!(error, &LoadError::Engine { engine: "refuses", code: ErrorCode::NoMemory, reason });
        assert_eq!(error.to_string(), text);
        assert!(!vm.is_loaded());
    }
}
