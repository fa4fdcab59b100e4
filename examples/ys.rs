fn run(name: &str, docs: &[String], f: &dyn Fn() -> serde_saphyr::Options) {
    let t = std::time::Instant::now();
    for _ in 0..30 {
        for d in docs {
            let _v: serde_json::Value = serde_saphyr::from_str_with_options(d, f()).unwrap();
        }
    }
    println!("{name}: {:?}", t.elapsed() / 30);
}
fn main() {
    let text = std::fs::read_to_string("/tmp/ys/in.yaml").unwrap();
    let docs: Vec<String> = cocktail_pkg::yaml::split_documents(&text)
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| !cocktail_pkg::yaml::is_blank(d))
        .collect();
    run("default", &docs, &|| serde_saphyr::Options::default());
    run("lastwins", &docs, &|| {
        let mut o = serde_saphyr::Options::default();
        o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
        o
    });
    run("nobudget", &docs, &|| {
        let mut o = serde_saphyr::Options::default();
        o.budget = None;
        o
    });
    run("noschema", &docs, &|| {
        let mut o = serde_saphyr::Options::default();
        o.no_schema = true;
        o
    });
    run("nosnippet", &docs, &|| {
        let mut o = serde_saphyr::Options::default();
        o.with_snippet = false;
        o
    });
    run("all", &docs, &|| {
        let mut o = serde_saphyr::Options::default();
        o.with_snippet = false;
        o.budget = None;
        o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
        o
    });
    let t = std::time::Instant::now();
    for _ in 0..30 {
        for d in &docs {
            let _v: serde_json::Value = serde_saphyr::from_str(d).unwrap();
        }
    }
    println!("from_str: {:?}", t.elapsed() / 30);
}
