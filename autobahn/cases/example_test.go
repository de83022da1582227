package cases_test

import (
	"fmt"

	"github.com/rfc6455/ws/autobahn/cases"
)

func ExampleSet_ByID() {
	set := cases.Default()
	c := set.ByID("6.4.1")
	fmt.Println(len(set.Cases), c.ID, set.SubCategories["6.4"])
	fmt.Println(cases.Pretty(c))
	// Output:
	// 517 6.4.1 Fail-fast on invalid UTF-8
	// Send invalid UTF-8 text message in 3 fragments (frames). First frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest. Note that PART1 and PART3 are valid UTF-8 in themselves, PART2 is a 0x110000 encoded as in the UTF-8 integer encoding scheme, but the codepoint is invalid (out of range).
}
