//! `latchkey branding show|set|reset`: the installation's look (name, logo, colour) on every
//! page and in every mail, as the Platform page and `/api/v1/branding`.

use clap::Subcommand;
use latchkey_core::branding::{Brand, BrandError, BrandInput, BrandingError};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum BrandingCommand {
    /// Print the look pages and mail use now.
    Show,
    /// Change the look; what is not given stays as it is.
    Set {
        /// The name in every page title and header, and under every mail (1–40 characters).
        #[arg(long)]
        name: Option<String>,
        /// An https image shown beside the name.
        #[arg(long, conflicts_with = "no_logo")]
        logo_uri: Option<String>,
        /// Show no logo.
        #[arg(long)]
        no_logo: bool,
        /// Buttons and links, `#rrggbb`, dark enough for white text (contrast 4.5:1 or more).
        #[arg(long, conflicts_with = "default_colour")]
        colour: Option<String>,
        /// Use Latchkey's own blue.
        #[arg(long)]
        default_colour: bool,
    },
    /// Go back to Latchkey's own name and colours, without a logo.
    Reset,
}

pub async fn run(cmd: BrandingCommand, config: Config, json: bool) -> Result<(), Failure> {
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    let branding = backend.core.branding();
    match cmd {
        BrandingCommand::Show => print_brand(&*branding.current().await, json),
        BrandingCommand::Set { name, logo_uri, no_logo, colour, default_colour } => {
            let current = branding.current().await;
            let input = BrandInput {
                name: name.unwrap_or_else(|| current.name().to_owned()),
                logo_uri: if no_logo {
                    None
                } else {
                    logo_uri.or_else(|| current.logo_uri().map(str::to_owned))
                },
                colour: if default_colour {
                    None
                } else {
                    colour.or_else(|| current.colour().map(|c| c.to_string()))
                },
            };
            let brand = branding.update_branding(&backend.site_admin(), &input).await.map_err(
                |e| match e {
                    BrandingError::Invalid(e @ BrandError::Name) => {
                        Failure::Usage(format!("--name: {e}"))
                    }
                    BrandingError::Invalid(e @ BrandError::Logo(_)) => {
                        Failure::Usage(format!("--logo-uri: {e}"))
                    }
                    BrandingError::Invalid(e) => Failure::Usage(format!("--colour: {e}")),
                    BrandingError::Repo(e) => Failure::Refused(e.to_string()),
                },
            )?;
            print_brand(&brand, json);
        }
        BrandingCommand::Reset => {
            branding
                .reset_branding(&backend.site_admin())
                .await
                .map_err(|e| Failure::Refused(e.to_string()))?;
            if json {
                print_json(&json!({ "reset": true }));
            } else {
                println!("Pages and mail use Latchkey's own look again.");
            }
        }
    }
    Ok(())
}

fn print_brand(brand: &Brand, json: bool) {
    if json {
        print_json(&brand.describe());
        return;
    }
    println!("name:   {}", brand.name());
    println!("logo:   {}", brand.logo_uri().unwrap_or("(none)"));
    match brand.colour() {
        Some(c) => println!("colour: {c}"),
        None => println!("colour: (Latchkey's own)"),
    }
}
