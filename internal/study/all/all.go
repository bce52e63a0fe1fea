// Package all registers every built-in study: import it for its side effect.
package all

import (
	_ "github.com/prosim/prosim/internal/study/games"     // economic games
	_ "github.com/prosim/prosim/internal/study/network"   // Study 3
	_ "github.com/prosim/prosim/internal/study/tpp"       // Study 2
	_ "github.com/prosim/prosim/internal/study/vignettes" // Study 1
)
