package report

// ReasonCount is how many decisions were recorded invalid for one reason.
type ReasonCount = reasonCount

// TopReasons are the k most common reasons a reply was recorded invalid, most common first:
// the list the summary and the report show (prosim serve shows it live).
func TopReasons(r *Run, k int) []ReasonCount { return topReasons(r, k) }
