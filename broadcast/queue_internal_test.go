package broadcast

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/ws/conn"
)

// TestQueue pushes and pops in patterns that wrap the ring and grow it
// while it wraps, and checks the messages come out in order.
func TestQueue(t *testing.T) {
	msgs := make([]*conn.PreparedMessage, 40)
	id := make(map[*conn.PreparedMessage]int)
	for i := range msgs {
		pm, err := conn.NewPreparedMessage(conn.Text, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		msgs[i], id[pm] = pm, i
	}
	tests := []struct {
		name  string
		limit int
		ops   []int // positive: push that many; negative: pop that many
		want  []int // ids popped, in order (-1: nil)
		cap   int   // ring size at the end
	}{
		{"empty", 8, []int{-1}, []int{-1}, 0},
		{"fifo", 8, []int{3, -3}, []int{0, 1, 2}, 4},
		{"wrap", 4, []int{3, -2, 3, -4}, []int{0, 1, 2, 3, 4, 5}, 4},
		{"grow while wrapped", 16, []int{4, -3, 3, 3, -7, -1}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1}, 8},
		{"limit not a power of two", 6, []int{6, -6}, []int{0, 1, 2, 3, 4, 5}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q queue
			next := 0
			var got []int
			for _, op := range tt.ops {
				for ; op > 0; op-- {
					if q.len() == tt.limit {
						t.Fatalf("push beyond the limit %d", tt.limit)
					}
					q.push(msgs[next], tt.limit)
					next++
				}
				for ; op < 0; op++ {
					pm := q.pop()
					if pm == nil {
						got = append(got, -1)
						continue
					}
					got = append(got, id[pm])
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("popped (-want +got):\n%s", diff)
			}
			if len(q.buf) != tt.cap {
				t.Errorf("ring size %d, want %d", len(q.buf), tt.cap)
			}
			for i, pm := range q.buf {
				if pm != nil && q.len() == 0 {
					t.Errorf("slot %d still holds a message after the queue emptied", i)
				}
			}
		})
	}
}
