//! daprd's expected command line, written once for every test crate that checks one (the
//! injection tests and `dapr-inject`'s): the worked example of section 10 of the
//! specification, and the means to change a value.

/// The flags every 1.16-1.18 daprd gets, in Dapr's order, with the worked example's values.
pub const ALWAYS: &[&str] = &[
    "--dapr-http-port",
    "3500",
    "--dapr-grpc-port",
    "50001",
    "--dapr-internal-grpc-port",
    "50002",
    "--dapr-listen-addresses",
    "[::1],127.0.0.1",
    "--dapr-public-port",
    "3501",
    "--app-id",
    "myapp",
    "--app-protocol",
    "http",
    "--log-level",
    "info",
    "--dapr-graceful-shutdown-seconds",
    "-1",
    "--mode",
    "kubernetes",
    "--control-plane-address",
    "dapr-api.dapr-system.svc.cluster.local:443",
    "--sentry-address",
    "dapr-sentry.dapr-system.svc.cluster.local:443",
];

/// The rest of the worked example's flags.
pub const WORKED_EXAMPLE_TAIL: &[&str] = &[
    "--app-port",
    "8080",
    "--enable-metrics",
    "--metrics-port",
    "9090",
    "--placement-host-address",
    "dapr-placement-server.dapr-system.svc.cluster.local:50005",
    "--enable-mtls",
    "--scheduler-host-address",
    "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443",
];

/// `/daprd`, the flags of [`ALWAYS`] with some values changed, then `tail`.
pub fn daprd_args(changed: &[(&str, &str)], tail: &[&str]) -> Vec<String> {
    let mut args = vec!["/daprd".to_owned()];
    let mut flags = ALWAYS.iter();
    while let (Some(flag), Some(value)) = (flags.next(), flags.next()) {
        let value = changed
            .iter()
            .find(|(f, _)| f == flag)
            .map_or(*value, |(_, v)| *v);
        args.extend([flag.to_string(), value.to_owned()]);
    }
    args.extend(tail.iter().map(|s| s.to_string()));
    args
}

/// The worked example's daprd arguments: `/daprd` and every flag.
pub fn worked_example_args() -> Vec<String> {
    daprd_args(&[], WORKED_EXAMPLE_TAIL)
}

/// `args` with the value after each named flag replaced.
pub fn with_values(mut args: Vec<String>, changed: &[(&str, &str)]) -> Vec<String> {
    for (flag, value) in changed {
        let at = args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("{flag} is not in {args:?}"));
        args[at + 1] = value.to_string();
    }
    args
}
