package leadergate

// Observable is implemented by electors that can say who holds their lease (our leader_election
// extension does; contrib's k8s_leader_elector does not). The status extension finds electors
// through host.GetExtensions and asserts this interface.
type Observable interface {
	Elector
	// Lease is "<namespace>/<name>" of the Lease object this elector campaigns for.
	Lease() string
	// Identity is this process's holder identity in that Lease.
	Identity() string
	// Holder is the identity last seen holding the Lease ("" when nobody holds it or not yet known).
	Holder() string
	// Leading reports whether this process holds the Lease now.
	Leading() bool
}

// LeaseChecker is implemented by electors that can tell whether the lease they hold is still
// theirs and unexpired by their own clock (ours does; contrib's does not). A replica frozen past its
// lease (SIGSTOP, a stalled node) still believes it leads until its next renewal fails; receivers
// ask this before emitting, so such a replica never emits what it collected meanwhile.
type LeaseChecker interface {
	LeaseValid() bool
}
