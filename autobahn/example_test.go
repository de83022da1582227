package autobahn_test

import (
	"fmt"

	"github.com/rfc6455/ws/autobahn"
	"github.com/rfc6455/ws/autobahn/cases"
)

// A spec selects cases with the original's wildcards and exclusions.
func ExampleSpec_SelectCases() {
	spec := &autobahn.Spec{Cases: []string{"6.4.*", "7.13.*"}, ExcludeCases: []string{"6.4.2"}}
	ids, err := spec.SelectCases(cases.Default())
	if err != nil {
		panic(err)
	}
	fmt.Println(ids)
	// Output: [6.4.1 6.4.3 6.4.4 7.13.1 7.13.2]
}
