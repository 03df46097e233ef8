//! The rule that keeps core's modules in layers, checked against the source: a module may
//! import (`crate::…`) only from layers below its own. A feature's `model` and `ports`
//! submodules are their own nodes, lower than the feature's use cases, so capabilities and
//! other features' services can name its types and hold its ports. `service` (the wiring and
//! the `Core` façade), `ports` (a re-export façade for implementers) and `lib` sit on top.
//! Nothing in a feature names `Core`: each feature's use cases are methods of its own service,
//! which holds the services below it. The order is written out in `docs/architecture.md`.

/// Bottom to top. Modules in the same layer may not import each other.
#[cfg(test)]
const LAYERS: &[&[&str]] = &[
    &["clock", "errors", "return_to", "secret", "settings", "text"],
    &["id", "branding::model"],
    &[
        "accounts",
        "accounts::model",
        "branding::ports",
        "credentials",
        "outbox",
        "outbox::ports",
        "sealed",
    ],
    &["policies::model", "api_tokens::model", "legacy::model"],
    &["mail", "orgs::model", "sessions::model", "accounts::ports", "guard::ports"],
    &["saml_sp::model"],
    &[
        "authority",
        "kernel",
        "jobs::ports",
        "api_tokens::ports",
        "legacy::ports",
        "audit::ports",
        "flows::ports",
        "mail::ports",
        "oidc_provider::ports",
        "orgs::ports",
        "outbox::ports",
        "policies::ports",
        "saml_sp::ports",
        "second_factor::ports",
        "sessions::ports",
    ],
    &["audit", "flash", "jobs"],
    &["branding", "guard", "policies"],
    &["legacy"],
    &["sessions", "api_tokens"],
    &["oidc_provider"],
    &["second_factor"],
    &["flows"],
    &["orgs"],
    &["saml_sp"],
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::LAYERS;

    /// Modules above every layer: they compose the features.
    const ON_TOP: [&str; 4] = ["lib", "service", "ports", "layering"];

    fn node_of(rel: &str) -> String {
        let rel = rel.trim_end_matches(".rs");
        let mut parts = rel.split('/');
        let top = parts.next().unwrap_or_default().to_owned();
        match parts.next() {
            Some(sub @ ("model" | "ports")) => format!("{top}::{sub}"),
            _ => top,
        }
    }

    fn layer_of(node: &str) -> Option<usize> {
        LAYERS.iter().position(|layer| layer.contains(&node))
    }

    /// `crate::…` paths in code (comments and test modules left out).
    fn imports(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = Vec::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                found.extend(group[..end].split(',').map(|p| p.trim().to_owned()));
            } else {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(rest.len());
                found.push(rest[..end].to_owned());
            }
        }
        found
    }

    fn target_of(path: &str) -> Option<String> {
        let mut segments = path.split("::").filter(|s| !s.is_empty());
        let top = segments.next()?;
        if top == "self" {
            return None;
        }
        Some(match segments.next() {
            Some(sub @ ("model" | "ports")) => format!("{top}::{sub}"),
            _ => top.to_owned(),
        })
    }

    fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }

    #[test]
    fn every_module_imports_only_from_layers_below_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &root, &mut files);
        let mut wrong = BTreeSet::new();
        for (rel, source) in &files {
            let from = node_of(rel);
            if ON_TOP.contains(&from.as_str()) {
                continue;
            }
            let Some(from_layer) = layer_of(&from) else {
                wrong.insert(format!("{rel}: module {from} is in no layer (add it to LAYERS)"));
                continue;
            };
            for path in imports(source) {
                let Some(to) = target_of(&path) else { continue };
                if to == "ports" {
                    wrong.insert(format!(
                        "{rel}: imports the ports façade; import from the feature"
                    ));
                    continue;
                }
                if to.split("::").next() == from.split("::").next() {
                    continue;
                }
                match layer_of(&to) {
                    Some(l) if l < from_layer => {}
                    Some(_) => {
                        wrong.insert(format!(
                            "{rel}: {from} imports {path} from the same or a higher layer"
                        ));
                    }
                    None => {
                        wrong.insert(format!("{rel}: {from} imports {path}, which is in no layer"));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "layering broken:\n{}",
            wrong.into_iter().collect::<Vec<_>>().join("\n")
        );
    }
}
