use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(dapr_inject::run(
        std::env::args_os(),
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    ))
}
