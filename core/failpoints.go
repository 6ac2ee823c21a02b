package core

// Failpoint markers: every timing-sensitive point of the channels, the scope
// tree and the task groups carries a github.com/pingcap/failpoint marker.
//
// In a plain build the markers are empty functions that the compiler
// inlines away: they cost nothing, not even a stack slot (a marker that can
// change behaviour keeps its code inside a failpoint.Inject closure, which a
// plain build drops). The chaos build (scripts/chaos-test) compiles core
// through failpoint-toolexec, which rewrites each marker into a call of the
// hook that package chaos registers for it with failpoint.EnableCall.
//
// Every marker name is declared once, in package internal/failpoints, whose
// table lists it with its kind and the site it marks; core names it here by
// a short unexported constant. Markers of kind Hook call a func() hook;
// markers of kind Decide and Bug call a func(*bool) hook that sets the bool
// to take the marked path; markers of kind Contract call a func(ch any,
// enter bool) hook. Markers whose name starts with "bug/" plant bugs, for
// the harness's self-test; a chaos run never enables them. Markers of kind
// Step ("step/…") are the serialized mode's scheduling points (step.go):
// compiled in with the chaos tag only, and passed only while
// SetStepMarkers(true) is in effect.
// TestFailpointsTable (internal/failpoints) checks that every marker here
// is in the table and every entry of the table has a marker.

import "github.com/nimsync/nimsync/internal/failpoints"

// Marker names, as core's sources pass them to failpoint.Inject,
// failpoint.InjectCall and planted.
const (
	fpSendReserved           = failpoints.ChanSendReserved
	fpRecvClaimed            = failpoints.ChanRecvClaimed
	fpPark                   = failpoints.ChanPark
	fpParkSpurious           = failpoints.ChanParkSpuriousWakeup
	fpWoken                  = failpoints.ChanWoken
	fpClose                  = failpoints.ChanClose
	fpScopeAttach            = failpoints.ScopeAttach
	fpScopeCancel            = failpoints.ScopeCancelChild
	fpScopeHooks             = failpoints.ScopeHooks
	fpGroupGo                = failpoints.GroupGo
	fpTaskStart              = failpoints.GroupTaskStart
	fpTaskExit               = failpoints.GroupTaskExit
	fpGroupWait              = failpoints.GroupWait
	fpPoolTake               = failpoints.PoolTake
	fpPoolPark               = failpoints.PoolPark
	fpBugLostWakeup          = failpoints.BugLostWakeup
	fpBugEarlyPub            = failpoints.BugPublishBeforeWrite
	fpBugChildLive           = failpoints.BugChildNotCancelled
	fpBugCloseDrops          = failpoints.BugCloseDropsValues
	fpBugDoneEarly           = failpoints.BugTaskDoneBeforeDefer
	fpBugHookSkipped         = failpoints.BugCancelHookSkipped
	fpBugRecvRunaway         = failpoints.BugRecvAfterCloseRunaway
	fpBugTaskSkipped         = failpoints.BugTaskSkippedAfterCancel
	fpBugRangeWaitsSlot      = failpoints.BugRangeRestWaitsForSlot
	fpBugFirstErrLost        = failpoints.BugFirstErrorOverwritten
	fpBugAllErrorsCancel     = failpoints.BugAllErrorsCancels
	fpBugGoexitLost          = failpoints.BugGoexitNotAFailure
	fpBugPanicAsError        = failpoints.BugPanicReportedAsError
	fpBugCancelIsError       = failpoints.BugCancellationReportedAsError
	fpBugWaitRejoins         = failpoints.BugWaitJoinsAnew
	fpBugGoAfterWait         = failpoints.BugGoAfterWaitAccepted
	fpBugTryGoCancelled      = failpoints.BugTryGoAcceptsWhenCancelled
	fpBugLimitOffByOne       = failpoints.BugLimitOffByOne
	fpBugGoInline            = failpoints.BugCancelledGoRunsInline
	fpBugRunDropsBodyErr     = failpoints.BugRunDropsBodyError
	fpBugResultSlotRefused   = failpoints.BugResultSlotForRefusedTryGo
	fpBugGoClearsWaiter      = failpoints.BugGoClearsWaitFlag
	fpBugBlockedGoDropped    = failpoints.BugBlockedGoDroppedOnCancel
	fpBugExitUnpublished     = failpoints.BugGoexitWorkerCountLost
	fpBugScopeStaysLinked    = failpoints.BugCancelledScopeStaysLinked
	fpBugCloseTwiceNil       = failpoints.BugCloseTwiceReturnsNil
	fpBugStaleFull           = failpoints.BugTrySendFullOnStaleTail
	fpBugRecheckMissesClose  = failpoints.BugRecheckMissesClose
	fpBugCancelLosesValue    = failpoints.BugCancelLosesValue
	fpBugBatchWakesOne       = failpoints.BugBatchWakesOne
	fpBugCancelStaysLinked   = failpoints.BugCancelledWaiterStaysLinked
	fpBugLenClosedBit        = failpoints.BugLenCountsClosedBit
	fpBugCancelsParent       = failpoints.BugLastChildCancelsParent
	fpBugLaterCause          = failpoints.BugLaterCauseOverwritesFirst
	fpBugBornLive            = failpoints.BugChildOfCancelledStartsLive
	fpBugOwnDeadline         = failpoints.BugOwnDeadlineOverParents
	fpBugShieldNoValues      = failpoints.BugShieldDropsValues
	fpBugValueOneLevel       = failpoints.BugValueStopsAtScope
	fpBugErrFromParent       = failpoints.BugErrReadsParentState
	fpBugWaitSkips           = failpoints.BugWaitSkipsUnderCancelledParent
	fpBugContractLeftEarly   = failpoints.BugContractLeftBeforeWait
	fpBugStaleLap            = failpoints.BugRecvClaimsStaleLap
	fpBugLimitCheckThenStore = failpoints.BugLimitCheckThenStore
	fpBugSendNoRecheck       = failpoints.BugSenderParksWithoutRecheck
	fpBugFinishLoadsFirst    = failpoints.BugFinishLoadsWaitersFirst
	fpBugHookMidWalk         = failpoints.BugHookRunsMidWalk
	fpBugDoneNoRecheck       = failpoints.BugDoneSkipsRecheck
	fpContractSend           = failpoints.ContractSingleSender
	fpContractRecv           = failpoints.ContractSingleReceiver
	fpStepAtomic             = failpoints.StepAtomic
	fpStepLock               = failpoints.StepLock
	fpStepUnlock             = failpoints.StepUnlock
	fpStepSpin               = failpoints.StepSpin
	fpStepBlock              = failpoints.StepBlock
	fpStepGo                 = failpoints.StepGo
	fpStepSleep              = failpoints.StepSleep
	fpStepNow                = failpoints.StepNow
	fpStepBlockFor           = failpoints.StepBlockFor
	fpStepAfter              = failpoints.StepAfter
	fpStepPool               = failpoints.StepPool
)
