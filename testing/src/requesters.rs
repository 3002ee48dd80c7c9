//! Who creates Pods in the tests, named as the API server names them: written once for every
//! test crate, the benchmark and the fuzz targets.

use dapr_sidecar_injector::Admission;

/// A ReplicaSet controller creating a Pod in `namespace`.
pub fn controller_in(namespace: &'static str) -> Admission<'static> {
    Admission {
        kind: "Pod",
        operation: "CREATE",
        namespace,
        username: "system:serviceaccount:kube-system:replicaset-controller",
        groups: vec![
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
    }
}

/// The ReplicaSet controller in `default`, where the worked example lives.
pub fn controller() -> Admission<'static> {
    controller_in("default")
}
