#!/usr/bin/env bash
# The TAXII 2.1 server of `scrutineer serve` against a real client: PyPI's
# taxii2-client (and OASIS's stix2-validator), installed into a venv under target/.
#
# Scans real scanner logs into a store, serves it on a loopback port, then with
# taxii2-client: reads discovery, the API root and the collections; pages through the
# infra collection five objects at a time and checks the pages against the manifest;
# reads with added_after and checks only later objects come back; checks that a viewer
# is served nothing above TLP:GREEN (nothing at first, the infra engine's default being
# TLP:AMBER; then exactly the objects of a finding triaged down to TLP:GREEN); pushes a
# partner bundle to the inbox and checks its indicators come back as imported
# indicators with the observables `scrutineer infra import` reads from the same bundle;
# and validates every object served with stix2-validator. Any failure fails the script.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/infra/apache-http-logs-scans"
for f in acunetix.txt netsparker.txt w3af.txt; do
  [ -f "$data/$f" ] || { echo "taxii-client: missing data file $data/$f" >&2; exit 2; }
done
cd "$root"
bin="${SCRUTINEER_BIN:-$root/target/release/scrutineer}"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -p scrutineer --quiet
fi
work="$root/target/taxii-client"
rm -rf "$work"; mkdir -p "$work"
venv="$root/target/venv-taxii"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import taxii2client, stix2validator' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet taxii2-client stix2-validator
fi
store="$work/s.db"
"$bin" --quiet --store "$store" infra scan "$data/acunetix.txt" "$data/netsparker.txt" "$data/w3af.txt" \
  --jurisdiction office-a --jurisdiction office-b --jurisdiction office-c --out "$work/scan" > /dev/null
analyst=$("$bin" --quiet --store "$store" tokens add partner-analyst --role analyst)
viewer=$("$bin" --quiet --store "$store" tokens add partner-viewer --role viewer)

"$bin" --store "$store" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's|^listening on http://||p' "$work/serve.out" | head -n 1)
[ -n "$addr" ] || { cat "$work/serve.err" >&2; echo "FAIL: the server did not start" >&2; exit 1; }

# The partner's bundle: three indicators `infra import` reads, and one object it does not.
cat > "$work/partner.json" <<'JSON'
{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created": "2026-10-01T12:00:00.000Z", "modified": "2026-10-01T12:00:00.000Z", "name": "Partner scanner",
  "pattern": "[ipv4-addr:value = '203.0.113.77']", "pattern_type": "stix", "valid_from": "2026-10-01T12:00:00Z",
  "indicator_types": ["malicious-activity"],
  "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--2f7c1a2e-1f0c-4b7e-9a55-0f6d1c1f4b21",
  "created": "2026-10-01T12:00:00.000Z", "modified": "2026-10-01T12:00:00.000Z", "name": "Phishing domain",
  "pattern": "[domain-name:value = 'vote-check.example'] OR [ipv4-addr:value = '198.51.100.23']",
  "pattern_type": "stix", "valid_from": "2026-10-01T12:00:00Z", "indicator_types": ["malicious-activity"],
  "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--b1f0d3a4-6a55-4c1e-8c1f-3a2f4e5d6c7b",
  "created": "2026-10-01T12:00:00.000Z", "modified": "2026-10-01T12:00:00.000Z", "name": "Red-marked source",
  "pattern": "[ipv4-addr:value = '192.0.2.200']", "pattern_type": "stix", "valid_from": "2026-10-01T12:00:00Z",
  "indicator_types": ["malicious-activity"],
  "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]},
 {"type": "identity", "spec_version": "2.1", "id": "identity--0f3e3e8a-7a1b-4b8e-9c55-2a1b3c4d5e6f",
  "created": "2026-10-01T12:00:00.000Z", "modified": "2026-10-01T12:00:00.000Z", "name": "Partner ISAC",
  "identity_class": "organization"}
]}
JSON
"$bin" --quiet --json infra import "$work/partner.json" > "$work/partner-import.json"

"$venv/bin/python" - "$addr" "$analyst" "$viewer" "$work" <<'PY'
import json, sys, time, uuid
import requests
from taxii2client.v21 import Server, as_pages
from stix2validator import ValidationOptions, validate_instance

addr, analyst_token, viewer_token, work = sys.argv[1:5]
base = f"http://{addr}"
TLP = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
failures = []

def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)

class Bearer(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token
    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r

def collections_of(token):
    server = Server(f"{base}/taxii2/", auth=Bearer(token))
    root = server.api_roots[0]
    return server, root, {c.alias if hasattr(c, "alias") else c.title: c for c in root.collections}

def by_alias(root):
    return {c._raw.get("alias"): c for c in root.collections}

def all_objects(collection, per_request=5, **filters):
    objects, pages = [], 0
    for envelope in as_pages(collection.get_objects, per_request=per_request, **filters):
        pages += 1
        objects.extend(envelope.get("objects", []))
    return objects, pages

def markings(objects):
    return {TLP.get(ref, ref) for o in objects for ref in o.get("object_marking_refs", [])}

# Discovery, API root, collections.
r = requests.get(f"{base}/taxii2/", headers={"Accept": "application/taxii+json;version=2.1"})
check(r.status_code == 401, f"discovery without a token answered {r.status_code}")
server, root, _ = collections_of(analyst_token)
print(f"discovery: {server.title}; API roots {len(server.api_roots)}; versions {root.versions}")
check("application/taxii+json;version=2.1" in root.versions, "the API root does not offer TAXII 2.1")
cols = by_alias(root)
print("collections:", ", ".join(f"{a} ({'rw' if c.can_write else 'r'})" for a, c in sorted(cols.items())))
for want in ("infra", "influence", "hunt", "mail", "inbox"):
    check(want in cols, f"no '{want}' collection")
check(cols["inbox"].can_write and not cols["infra"].can_write, "write access per collection is wrong")

# Paging through the infra collection against the manifest.
infra = cols["infra"]
objects, pages = all_objects(infra, per_request=5)
manifest = infra.get_manifest(limit=1000)
manifest_ids = [m["id"] for m in manifest.get("objects", [])]
print(f"infra: {len(objects)} objects in {pages} pages of 5; manifest {len(manifest_ids)} records")
check(len(objects) >= 10, f"the infra collection serves only {len(objects)} objects")
check(pages == (len(objects) + 4) // 5, f"{pages} pages for {len(objects)} objects at 5 a page")
check([o["id"] for o in objects] == manifest_ids, "the pages and the manifest disagree")
check(len(set(manifest_ids)) == len(manifest_ids), "an object is served twice")
types = {o["type"] for o in objects}
check({"indicator", "sighting"} <= types, f"infra serves no indicators or sightings: {sorted(types)}")
check(markings(objects) <= {"clear", "green", "amber", "amber+strict"}, f"an analyst was served {markings(objects)}")

# added_after: only objects added later come back.
dates = sorted({m["date_added"] for m in manifest["objects"]})
cut = dates[0]
later = [m["id"] for m in manifest["objects"] if m["date_added"] > cut]
after, _ = all_objects(infra, per_request=5, added_after=cut)
print(f"added_after {cut}: {len(after)} objects (manifest says {len(later)})")
check(sorted(o["id"] for o in after) == sorted(later), "added_after served the wrong objects")
future, _ = all_objects(infra, per_request=5, added_after="2999-01-01T00:00:00Z")
check(future == [], "added_after in the future served objects")

# A viewer reads nothing above TLP:GREEN.
_, vroot, _ = collections_of(viewer_token)
vinfra = by_alias(vroot)["infra"]
seen, _ = all_objects(vinfra)
print(f"viewer, infra at the engine's default TLP:AMBER: {len(seen)} objects")
check(seen == [], "a viewer was served TLP:AMBER objects")
finding = requests.get(f"{base}/api/findings?engine=infra&limit=1",
                       headers={"Authorization": f"Bearer {analyst_token}"}).json()[0]
r = requests.post(f"{base}/api/findings/{finding['id']}/triage", json={"tlp": "green", "note": "cleared for partners"},
                  headers={"Authorization": f"Bearer {analyst_token}"})
check(r.status_code == 200 and r.json().get("tlp") == "green", f"setting TLP:GREEN answered {r.status_code} {r.text[:200]}")
seen, _ = all_objects(vinfra)
print(f"viewer after one finding was marked TLP:GREEN: {len(seen)} objects, markings {sorted(markings(seen))}")
check(0 < len(seen) < len(objects), f"the viewer got {len(seen)} objects of {len(objects)}")
check(markings(seen) <= {"clear", "green"}, f"a viewer was served {markings(seen)}")
polled, _ = all_objects(vinfra, added_after=cut)
print(f"viewer polling with added_after {cut}: {len(polled)} objects")
check(sorted(o["id"] for o in polled) == sorted(o["id"] for o in seen),
      "objects opened to the viewer by a new marking are not new to a client polling with added_after")
check(requests.post(f"{base}/taxii2/api/collections/{cols['inbox'].id}/objects/",
                    headers={"Authorization": f"Bearer {viewer_token}", "Content-Type": "application/taxii+json;version=2.1"},
                    data=json.dumps({"objects": []})).status_code == 403, "a viewer wrote to the inbox")

# A partner's bundle into the inbox, in two posts a moment apart.
bundle = json.load(open(f"{work}/partner.json"))
first = cols["inbox"].add_objects({"objects": bundle["objects"][:1]})
time.sleep(0.05)
status = cols["inbox"].add_objects({"objects": bundle["objects"][1:]})
print(f"inbox posts: status {first.status}/{status.status}, {first.success_count + status.success_count} accepted, "
      f"{first.failure_count + status.failure_count} refused")
check(status.status == "complete" and first.success_count + status.success_count == 3
      and first.failure_count + status.failure_count == 1, "the inbox accepted or refused the wrong objects")
inbox_manifest = cols["inbox"].get_manifest()["objects"]
first_added = [m["date_added"] for m in inbox_manifest if m["id"] == bundle["objects"][0]["id"]][0]
later, _ = all_objects(cols["inbox"], added_after=first_added)
print(f"inbox added_after the first post: {len(later)} objects")
check(len(later) >= 1 and bundle["objects"][0]["id"] not in {o["id"] for o in later},
      "added_after on the inbox served the first post again, or nothing of the second")
imported = requests.get(f"{base}/api/imported-indicators", headers={"Authorization": f"Bearer {analyst_token}"}).json()
cli = json.load(open(f"{work}/partner-import.json"))
def observables(rows):
    return sorted((i["id"], tuple(map(tuple, i["observables"]))) for i in rows)
served = {i["id"] for i in imported}
# An analyst's clearance stops at TLP:AMBER+STRICT: the TLP:RED indicator is kept, not served.
expected = [i for i in cli if i["id"] != "indicator--b1f0d3a4-6a55-4c1e-8c1f-3a2f4e5d6c7b"]
print(f"imported indicators: {len(imported)} served to an analyst; `infra import` reads {len(cli)} from the bundle")
check(observables(imported) == observables(expected), "the inbox does not read the bundle as `infra import` does")
inbox_objects, _ = all_objects(cols["inbox"])
check({o["id"] for o in inbox_objects} == served, "the inbox collection and the imported indicators differ")
check("red" not in markings(inbox_objects), "a TLP:RED object was served to an analyst")
vinbox, _ = all_objects(by_alias(vroot)["inbox"])
check([o["id"] for o in vinbox] == ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
      f"a viewer's inbox holds {[o['id'] for o in vinbox]}")

# Every object served validates.
options = ValidationOptions(version="2.1", strict_types=True)
served_all = []
for alias, c in sorted(cols.items()):
    got, _ = all_objects(c, per_request=100)
    served_all.extend(got)
invalid = 0
for o in served_all:
    result = validate_instance({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [o]}, options)
    if not result.is_valid:
        invalid += 1
        if invalid <= 5:
            print("invalid:", o.get("id"), [str(e) for e in result.errors][:3])
print(f"validated {len(served_all)} objects: {invalid} invalid")
check(invalid == 0, f"{invalid} objects do not validate")
check(len(served_all) >= len(objects), "fewer objects validated than the infra collection serves")

if failures:
    sys.exit(f"FAIL: {len(failures)} checks failed")
print("OK: taxii2-client read, paged, filtered and pushed; every object validates")
PY
