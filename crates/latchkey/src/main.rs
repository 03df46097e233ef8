//! `latchkey`: see `latchkey --help`.

fn main() -> std::process::ExitCode {
    latchkey::cli::main()
}
