package clitool

import (
	"fmt"
)

// Plural renders "1 application" / "2 applications".
func Plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
