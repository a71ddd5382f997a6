//! Group commit through the library API, many threads at once: writes committed together
//! still behave as if run one at a time. The same new schema registered concurrently gets one
//! id and one version, ids are never used twice, versions per subject are contiguous, and
//! everything answered is there after the store is reopened.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Barrier};
use std::thread;

use schemata::registry::{Registry, SchemaInput, Settings};
use schemata::store::Store;
use schemata::types::Level;

const THREADS: usize = 64;
const PER_THREAD: usize = 8;

fn input(text: &str) -> SchemaInput {
    SchemaInput { schema: Some(text.to_string()), ..SchemaInput::default() }
}

fn record(name: &str) -> String {
    format!(r#"{{"type":"record","name":"{name}","fields":[{{"name":"f","type":"string"}}]}}"#)
}

#[test]
fn concurrent_writes_commit_together_and_stay_serial() {
    let dir = tempfile::TempDir::new().unwrap();
    let settings = Settings { default_level: Level::None, ..Settings::default() };
    let registry = Arc::new(Registry::new(Arc::new(Store::open(dir.path()).unwrap()), settings.clone()));
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (registry, barrier) = (registry.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let mut answers = Vec::new();
                for i in 0..PER_THREAD {
                    // Every thread races on "shared" with the same schemas, and on its own
                    // subject of four with schemas nobody else sends.
                    let shared = record(&format!("Shared{i}"));
                    let id = registry.register("shared", &input(&shared), false).expect("register shared").id;
                    answers.push(("shared".to_string(), shared, id));
                    let own = record(&format!("Own{t}x{i}"));
                    let subject = format!("s{}", t % 4);
                    let id = registry.register(&subject, &input(&own), false).expect("register own").id;
                    answers.push((subject, own, id));
                }
                answers
            })
        })
        .collect();
    let answers: Vec<_> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();

    let check = |registry: &Registry| {
        let idx = registry.store().read();
        let mut ids_by_text: HashMap<&str, u32> = HashMap::new();
        for (subject, text, id) in &answers {
            let stored = &idx.schemas[id].record.schema;
            assert_eq!(stored, text, "id {id} names another schema");
            assert_eq!(*ids_by_text.entry(text).or_insert(*id), *id, "{text} got two ids");
            let versions = &idx.subjects[subject];
            assert_eq!(versions.values().filter(|s| s.id == *id).count(), 1, "{text} twice in {subject}");
        }
        let shared = &idx.subjects["shared"];
        assert_eq!(shared.keys().copied().collect::<Vec<_>>(), (1..=PER_THREAD as u32).collect::<Vec<_>>());
        let mut per_subject: BTreeMap<&str, usize> = BTreeMap::new();
        for (subject, versions) in &idx.subjects {
            let expected: Vec<u32> = (1..=versions.len() as u32).collect();
            assert_eq!(versions.keys().copied().collect::<Vec<_>>(), expected, "{subject} has gaps");
            per_subject.insert(subject, versions.len());
        }
        assert_eq!(per_subject.values().sum::<usize>(), PER_THREAD + THREADS * PER_THREAD);
        let distinct: HashSet<u32> = answers.iter().map(|(_, _, id)| *id).collect();
        assert_eq!(distinct.len(), PER_THREAD + THREADS * PER_THREAD);
        assert_eq!(idx.schemas.len(), distinct.len());
    };
    check(&registry);
    let settings = registry.settings().clone();
    drop(registry);
    check(&Registry::new(Arc::new(Store::open(dir.path()).unwrap()), settings));
}
