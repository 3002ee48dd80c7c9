//! The control-plane services daprd talks to, as Dapr's `patcher.NewService` and
//! `Config.parse` resolve them from the settings.

use super::table::{PLACEMENT_SERVICE_NAME, Settings};
use crate::base::dapr::service;

/// Dapr skips parsing the reminders address for this name (and then builds `default:.<ns>.svc.<cd>:0`).
pub const DEFAULT_REMINDERS_SERVICE_NAME: &str = "default";

/// A control-plane service as Dapr's `patcher.NewService` parses `<name>:<port>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub port: u32,
}

impl Service {
    pub fn new(name: &str, port: u32) -> Self {
        Service {
            name: name.to_owned(),
            port,
        }
    }

    pub fn parse(value: &str) -> Result<Service, String> {
        let (name, port) = value
            .split_once(':')
            .filter(|(name, port)| !name.is_empty() && !port.is_empty())
            .ok_or_else(|| format!("\"{value}\" is not in the form '<name>:<port>'"))?;
        let port = port
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=65535).contains(p))
            .ok_or_else(|| format!("\"{value}\" has an invalid port; use '<name>:<port>' with a port from 1 to 65535"))?;
        Ok(Service::new(name, port))
    }

    /// `<service>.<namespace>.svc.<clusterDomain>:<port>`.
    pub fn address(&self, namespace: &str, cluster_domain: &str) -> String {
        format!(
            "{}.{namespace}.svc.{cluster_domain}:{}",
            self.name, self.port
        )
    }
}

impl Settings {
    /// The actors service: `(name, service)`, as Dapr's `Config.parse` resolves it.
    pub fn actors_service(&self) -> Result<(String, Service), String> {
        if self.actors_service_name.is_empty() {
            return Ok((
                PLACEMENT_SERVICE_NAME.to_owned(),
                Service::new(service::PLACEMENT, 50005),
            ));
        }
        let service = Service::parse(&self.actors_service_address)
            .map_err(|e| format!("actorsServiceAddress: {e}"))?;
        Ok((self.actors_service_name.clone(), service))
    }

    /// The reminders service, when one is configured.
    pub fn reminders_service(&self) -> Result<Option<(String, Service)>, String> {
        match self.reminders_service_name.as_str() {
            "" => Ok(None),
            // Dapr's quirk: this name skips parsing and keeps an empty service.
            DEFAULT_REMINDERS_SERVICE_NAME => Ok(Some((
                self.reminders_service_name.clone(),
                Service::new("", 0),
            ))),
            name => {
                let service = Service::parse(&self.reminders_service_address)
                    .map_err(|e| format!("remindersServiceAddress: {e}"))?;
                Ok(Some((name.to_owned(), service)))
            }
        }
    }

    /// `spiffe://<trustDomain>/ns/<controlPlaneNamespace>/dapr-sentry`: the token audience.
    pub fn sentry_spiffe_id(&self) -> String {
        format!(
            "spiffe://{}/ns/{}/dapr-sentry",
            self.control_plane_trust_domain, self.control_plane_namespace
        )
    }
}
