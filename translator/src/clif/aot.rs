pub mod aot {}
