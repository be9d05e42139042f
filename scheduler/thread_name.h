#ifndef ONEWINDOW_SCHEDULER_THREAD_NAME_H_
#define ONEWINDOW_SCHEDULER_THREAD_NAME_H_

#include <pthread.h>

#include <string>

namespace onewindow::scheduler {

// Names the calling thread as `top -H`, perf and /proc/<pid>/task show it.
// Linux keeps 15 bytes of a name; longer names are cut there.
inline void NameThisThread(const std::string& name) {
  const std::string cut = name.substr(0, 15);
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_THREAD_NAME_H_
