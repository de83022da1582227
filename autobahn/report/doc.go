// Package report writes the results of a run in the layout of the
// original Autobahn|Testsuite: index.json (agent -> case -> behavior,
// behaviorClose, duration, remoteCloseCode, reportfile), one JSON file per
// agent and case with the whole record (wire log included), an HTML index
// of agents by cases colored by verdict, and an HTML page per case.
//
// It also prints the summary table of a run and compares results with an
// expected-results file, the regression gate of a project's own
// implementation: every case's expected verdict, with a written reason
// for each that is not OK.
package report
