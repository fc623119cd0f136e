/** The fake Google Workspace: shared by the connector tests, the demo and the benchmarks. */
export { buildDataset, gmailAt, storyRecords, STORY, type Dataset, type FakeActivity, type FakeAlert, type FakeUser } from './dataset.js';
export { fakeAuth, startGoogleFake, type FailureRule, type GoogleFake, type GoogleFakeOptions, type RecordedRequest } from './server.js';
