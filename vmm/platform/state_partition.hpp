// The VMM's state partition (docs/storage.md): at boot, the first disk on
// the primary IDE channel, its GPT, the partition of mamori's type GUID,
// and the record store on it; one log line says what was found or why
// nothing was. The shell's `tpm state` prints it again, `tpm state
// commit-test` commits a test record (a boot counter) through the store.
// Today the only record is that test record: vTPM state comes with the
// next steps of issue 12.
#pragma once

namespace mamori::platform {

void state_partition_init();
void state_partition_print();
// The test aid behind `tpm state commit-test`: loads the record, and
// commits "mamori test record, counter N+1" (N from the record if it is
// one, else 0) as the next generation. Prints the outcome.
void state_partition_commit_test();

}  // namespace mamori::platform
