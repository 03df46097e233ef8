//! The wiring: [`Ports`] (everything outside the domain) go in, each feature's service is
//! built over only the ports and services it uses, and [`Core`] hands them out. `Core` is a
//! façade with no logic of its own: `core.accounts().log_in(…)`, `core.sessions()…`.

use std::sync::Arc;

use crate::accounts::ports::AccountRepo;
use crate::api_tokens::ports::ApiTokenRepo;
use crate::api_tokens::{ApiTokenPorts, ApiTokens};
use crate::audit::Audit;
use crate::audit::ports::AuditRepo;
use crate::authority::Operator;
use crate::branding::Branding;
use crate::branding::ports::BrandingRepo;
use crate::clock::Clock;
use crate::credentials::PasswordHasher;
use crate::flash::{Flash, FlashState};
use crate::flows::ports::{AdminTokenRepo, EmailChangeRepo, OneTimeTokenRepo};
use crate::flows::{AccountDeps, AccountPorts, Accounts};
use crate::guard::Guard;
use crate::guard::ports::ThrottleRepo;
use crate::jobs::Jobs;
use crate::jobs::ports::JobLeaseRepo;
use crate::kernel::Kernel;
use crate::legacy::Legacy;
use crate::legacy::ports::LegacyRepo;
use crate::oidc_provider::ports::{ClientRepo, KeyFetcher, OidcRepo, SigningKeyRepo};
use crate::oidc_provider::{OidcPorts, OidcProvider, OidcState};
use crate::orgs::ports::{DnsResolver, OrgRepo, WebProofFetcher};
use crate::orgs::{OrgPorts, Organizations};
use crate::outbox::ports::OutboxRepo;
use crate::policies::Policies;
use crate::policies::ports::PolicyRepo;
use crate::saml_sp::ports::{MetadataFetcher, SamlRepo};
use crate::saml_sp::{SamlPorts, SamlSp, SamlState};
use crate::second_factor::ports::SecondFactorRepo;
use crate::second_factor::{SecondFactor, SecondFactorDeps, SecondFactorState};
use crate::secret::Rng;
use crate::sessions::ports::SessionRepo;
use crate::sessions::{SessionLifetimes, Sessions};
use crate::settings::CoreSettings;

/// Everything outside the domain, wired by the binary.
#[derive(Clone)]
pub struct Ports {
    pub accounts: Arc<dyn AccountRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub tokens: Arc<dyn OneTimeTokenRepo>,
    pub throttle: Arc<dyn ThrottleRepo>,
    pub outbox: Arc<dyn OutboxRepo>,
    pub admin_tokens: Arc<dyn AdminTokenRepo>,
    pub second_factor: Arc<dyn SecondFactorRepo>,
    pub orgs: Arc<dyn OrgRepo>,
    pub audit: Arc<dyn AuditRepo>,
    pub branding: Arc<dyn BrandingRepo>,
    pub job_leases: Arc<dyn JobLeaseRepo>,
    pub email_changes: Arc<dyn EmailChangeRepo>,
    pub dns: Arc<dyn DnsResolver>,
    pub web_proof: Arc<dyn WebProofFetcher>,
    pub clients: Arc<dyn ClientRepo>,
    pub signing_keys: Arc<dyn SigningKeyRepo>,
    pub oidc: Arc<dyn OidcRepo>,
    pub fetcher: Arc<dyn KeyFetcher>,
    pub policies: Arc<dyn PolicyRepo>,
    pub api_tokens: Arc<dyn ApiTokenRepo>,
    pub legacy: Arc<dyn LegacyRepo>,
    pub saml: Arc<dyn SamlRepo>,
    pub saml_metadata: Arc<dyn MetadataFetcher>,
    pub saml_verifier: Arc<dyn latchkey_protocol::saml::signature::SignatureVerifier>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
}

/// Every feature's service, built once by [`Core::new`]. Cloning is one `Arc` bump.
#[derive(Clone)]
pub struct Core(Arc<Services>);

struct Services {
    kernel: Kernel,
    audit: Audit,
    guard: Guard,
    policies: Policies,
    api_tokens: ApiTokens,
    legacy: Legacy,
    sessions: Sessions,
    oidc: OidcProvider,
    second_factor: SecondFactor,
    accounts: Accounts,
    orgs: Organizations,
    saml: SamlSp,
    branding: Branding,
    jobs: Jobs,
    flash: Flash,
    settings: CoreSettings,
}

/// The services every feature builds on.
struct Foundation {
    kernel: Kernel,
    audit: Audit,
    guard: Guard,
    policies: Policies,
    branding: Branding,
    jobs: Jobs,
}

fn foundation(ports: &Ports, settings: &CoreSettings, hasher: &PasswordHasher) -> Foundation {
    let kernel = Kernel::new(
        ports.clock.clone(),
        ports.rng.clone(),
        ports.outbox.clone(),
        ports.branding.clone(),
        &settings.public_url,
    );
    let audit = Audit::new(
        ports.audit.clone(),
        ports.accounts.clone(),
        ports.orgs.clone(),
        kernel.clone(),
        settings.audit_retention_secs,
    );
    let guard = Guard::new(
        ports.throttle.clone(),
        hasher.clone(),
        audit.clone(),
        kernel.clone(),
        settings.throttle,
    );
    let policies = Policies::new(
        ports.policies.clone(),
        ports.accounts.clone(),
        hasher.clone(),
        audit.clone(),
        kernel.clone(),
    );
    let branding = Branding::new(audit.clone(), kernel.clone());
    let jobs = Jobs::new(ports.job_leases.clone(), kernel.clone());
    Foundation { kernel, audit, guard, policies, branding, jobs }
}

fn api_tokens(
    ports: &Ports,
    guard: &Guard,
    policies: &Policies,
    hasher: &PasswordHasher,
    audit: &Audit,
    kernel: &Kernel,
    legacy: &Legacy,
) -> ApiTokens {
    ApiTokens::new(
        ApiTokenPorts {
            tokens: ports.api_tokens.clone(),
            accounts: ports.accounts.clone(),
            clients: ports.clients.clone(),
            orgs: ports.orgs.clone(),
            second_factor: ports.second_factor.clone(),
        },
        guard.clone(),
        policies.clone(),
        hasher.clone(),
        audit.clone(),
        kernel.clone(),
        legacy.clone(),
    )
}

fn legacy(
    ports: &Ports,
    hasher: &PasswordHasher,
    audit: &Audit,
    kernel: &Kernel,
    guard: &Guard,
) -> Legacy {
    Legacy::new(
        ports.legacy.clone(),
        ports.accounts.clone(),
        hasher.clone(),
        audit.clone(),
        kernel.clone(),
        guard.clone(),
    )
}

fn saml_sp(
    ports: &Ports,
    state: SamlState,
    oidc: &OidcProvider,
    second_factor: &SecondFactor,
    audit: &Audit,
    kernel: &Kernel,
) -> SamlSp {
    SamlSp::new(
        SamlPorts {
            saml: ports.saml.clone(),
            accounts: ports.accounts.clone(),
            orgs: ports.orgs.clone(),
            fetcher: ports.saml_metadata.clone(),
            verifier: ports.saml_verifier.clone(),
        },
        state,
        oidc.clone(),
        second_factor.clone(),
        audit.clone(),
        kernel.clone(),
    )
}

impl Core {
    /// The services, and the local operator's authority for whoever built them (the binary's
    /// CLI; the web layer only ever gets the core).
    pub fn new(
        ports: &Ports,
        settings: CoreSettings,
        hasher: PasswordHasher,
        oidc: OidcState,
        second_factor: SecondFactorState,
        saml: SamlState,
        flash: FlashState,
    ) -> (Self, Operator) {
        let Foundation { kernel, audit, guard, policies, branding, jobs } =
            foundation(ports, &settings, &hasher);
        let legacy = legacy(ports, &hasher, &audit, &kernel, &guard);
        let api_tokens = api_tokens(ports, &guard, &policies, &hasher, &audit, &kernel, &legacy);
        let oidc = OidcProvider::new(
            OidcPorts {
                clients: ports.clients.clone(),
                signing_keys: ports.signing_keys.clone(),
                oidc: ports.oidc.clone(),
                fetcher: ports.fetcher.clone(),
                sessions: ports.sessions.clone(),
                accounts: ports.accounts.clone(),
            },
            policies.clone(),
            api_tokens.clone(),
            legacy.clone(),
            audit.clone(),
            kernel.clone(),
            oidc,
        );
        let sessions = Sessions::new(
            ports.sessions.clone(),
            ports.accounts.clone(),
            Arc::new(oidc.clone()),
            policies.clone(),
            audit.clone(),
            kernel.clone(),
            SessionLifetimes {
                absolute_secs: settings.session_lifetime_secs,
                idle_secs: settings.session_idle_secs,
            },
        );
        let second_factor = SecondFactor::new(
            ports.second_factor.clone(),
            ports.accounts.clone(),
            second_factor,
            SecondFactorDeps {
                guard: guard.clone(),
                policies: policies.clone(),
                sessions: sessions.clone(),
                audit: audit.clone(),
                kernel: kernel.clone(),
            },
        );
        let accounts = Accounts::new(
            AccountPorts {
                accounts: ports.accounts.clone(),
                tokens: ports.tokens.clone(),
                email_changes: ports.email_changes.clone(),
                admin_tokens: ports.admin_tokens.clone(),
                orgs: ports.orgs.clone(),
            },
            AccountDeps {
                hasher,
                guard: guard.clone(),
                policies: policies.clone(),
                sessions: sessions.clone(),
                oidc: oidc.clone(),
                second_factor: second_factor.clone(),
                api_tokens: api_tokens.clone(),
                legacy: legacy.clone(),
                audit: audit.clone(),
                kernel: kernel.clone(),
            },
            settings.clone(),
        );
        let orgs = Organizations::new(
            OrgPorts {
                orgs: ports.orgs.clone(),
                accounts: ports.accounts.clone(),
                dns: ports.dns.clone(),
                web_proof: ports.web_proof.clone(),
            },
            accounts.clone(),
            second_factor.clone(),
            policies.clone(),
            api_tokens.clone(),
            audit.clone(),
            kernel.clone(),
        );
        let saml = saml_sp(ports, saml, &oidc, &second_factor, &audit, &kernel);
        let core = Self(Arc::new(Services {
            flash: Flash::new(flash, kernel.clone()),
            kernel,
            audit,
            guard,
            policies,
            api_tokens,
            legacy,
            sessions,
            oidc,
            second_factor,
            accounts,
            orgs,
            saml,
            branding,
            jobs,
            settings,
        }));
        (core, Operator::mint())
    }

    /// One-time messages across a POST/redirect/GET (sealed, minutes long).
    pub fn flash(&self) -> &Flash {
        &self.0.flash
    }

    /// Leases that give each periodic job one node at a time.
    pub fn jobs(&self) -> &Jobs {
        &self.0.jobs
    }

    /// The installation's name, logo and colour.
    pub fn branding(&self) -> &Branding {
        &self.0.branding
    }

    /// Time, randomness, the outbox and its mailer.
    pub fn kernel(&self) -> &Kernel {
        &self.0.kernel
    }

    pub fn audit(&self) -> &Audit {
        &self.0.audit
    }

    /// Counting attempts before secrets are checked.
    pub fn guard(&self) -> &Guard {
        &self.0.guard
    }

    /// Authentication policies: who is under which, password rules, admin actions.
    pub fn policies(&self) -> &Policies {
        &self.0.policies
    }

    /// API tokens, bots and products' basic-auth verification.
    pub fn api_tokens(&self) -> &ApiTokens {
        &self.0.api_tokens
    }

    /// Upgrading products' own user databases: import, rollout, upgrade at sign-in.
    pub fn legacy(&self) -> &Legacy {
        &self.0.legacy
    }

    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    pub fn oidc(&self) -> &OidcProvider {
        &self.0.oidc
    }

    pub fn second_factor(&self) -> &SecondFactor {
        &self.0.second_factor
    }

    pub fn accounts(&self) -> &Accounts {
        &self.0.accounts
    }

    pub fn orgs(&self) -> &Organizations {
        &self.0.orgs
    }

    /// SAML single sign-on with organizations' identity providers.
    pub fn saml(&self) -> &SamlSp {
        &self.0.saml
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.0.settings
    }
}
