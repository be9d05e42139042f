// The names history events have in the API ("ExecutionStarted"...).
#include "engine/core/execution.h"

namespace onewindow::core {

std::string_view EventTypeName(EventType type) {
  using namespace onewindow::store::v1;
  switch (type) {
    case EXECUTION_STARTED: return "ExecutionStarted";
    case EXECUTION_SUCCEEDED: return "ExecutionSucceeded";
    case EXECUTION_FAILED: return "ExecutionFailed";
    case EXECUTION_CANCELLED: return "ExecutionCancelled";
    case EXECUTION_TIMED_OUT: return "ExecutionTimedOut";
    case STATE_ENTERED: return "StateEntered";
    case STATE_EXITED: return "StateExited";
    case STATE_FAILED: return "StateFailed";
    case STATE_RETRY_SCHEDULED: return "StateRetryScheduled";
    case STATE_CAUGHT: return "StateCaught";
    case TASK_SCHEDULED: return "TaskScheduled";
    case TASK_SUCCEEDED: return "TaskSucceeded";
    case TASK_FAILED: return "TaskFailed";
    case TASK_TIMED_OUT: return "TaskTimedOut";
    case TASK_REDELIVERED: return "TaskRedelivered";
    case TASK_HEARTBEAT: return "TaskHeartbeat";
    case WAIT_STARTED: return "WaitStarted";
    case PARALLEL_STARTED: return "ParallelStarted";
    case PARALLEL_BRANCH_STARTED: return "ParallelBranchStarted";
    case PARALLEL_BRANCH_SUCCEEDED: return "ParallelBranchSucceeded";
    case PARALLEL_BRANCH_FAILED: return "ParallelBranchFailed";
    case MAP_STARTED: return "MapStarted";
    case MAP_ITERATION_STARTED: return "MapIterationStarted";
    case MAP_ITERATION_SUCCEEDED: return "MapIterationSucceeded";
    case MAP_ITERATION_FAILED: return "MapIterationFailed";
    case TIMER_FIRED: return "TimerFired";
    case CASE_OVERDUE: return "Overdue";
    case TASK_OVERDUE: return "TaskOverdue";
    case DOCUMENTS_ADDED: return "DocumentsAdded";
    case CASE_MIGRATED: return "CaseMigrated";
    case EXECUTION_CONTINUED: return "ExecutionContinued";
    case VARIABLES_ASSIGNED: return "VariablesAssigned";
    default: return "Unknown";
  }
}

}  // namespace onewindow::core
