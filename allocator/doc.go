// Package allocator decides how much bandwidth every flow group gets on every
// link, in the style of Google's BwE (SIGCOMM 2015) with the multipath
// water-filling of B4 (SIGCOMM 2013, §4.3).
//
// Each flow group (FG) has a bandwidth function B(f) that maps a
// dimensionless fair share f to a rate. A single fair share rises for every
// FG at once; links saturate one after another and freeze the FGs that cross
// them. [Allocate] does this event by event (breakpoints, demands reached,
// links saturating), so the result is exact up to floating-point rounding and
// the cost is near-linear in the size of the problem.
//
// Two multipath modes exist: [Split] divides an FG's rate over its paths by
// fixed weights; [Preferred] fills paths in preference order, moving on when
// a path's link saturates (B4 §4.3). An FG may delegate its final rate to
// children, shared by one more water-fill ([FlowGroup.Children]).
//
// The package also holds the pieces around the allocation: parsing a problem
// file ([ParseProblem]), estimating demand from counters BwE-style
// ([DemandEstimator]), and turning an allocation into enforcement state
// (meter configurations, [MeterConfigFor], and WCMP weights quantised to an
// action selector's group size, [QuantizeWeights]).
package allocator
