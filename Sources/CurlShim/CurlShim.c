#include "CurlShim.h"

CURLcode batch_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode batch_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode batch_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode batch_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode batch_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode batch_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, batch_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode batch_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode batch_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLMcode batch_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

CURLcode batch_curl_easy_setopt_opensocket(CURL *handle, curl_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

CURLcode batch_curl_easy_setopt_closesocket(CURL *handle, curl_closesocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, callback);
}

CURLcode batch_curl_easy_setopt_prereq(CURL *handle, curl_prereq_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_PREREQFUNCTION, callback);
}

CURLcode batch_curl_easy_setopt_seek(CURL *handle, curl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

CURLSH *batch_curl_share_ssl_sessions(void) {
    CURLSH *share = curl_share_init();
    if (share == NULL) return NULL;
    /* Used from the event thread only, so no lock callbacks are needed. */
    if (curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        curl_share_cleanup(share);
        return NULL;
    }
    return share;
}

/* ---- The event loop's I/O wait ---- */

#ifdef __linux__

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static long long monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* libcurl: watch (or stop watching) socket `s` for `what`. */
static int socket_callback(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)easy;
    batch_curl_driver *driver = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(driver->epoll_fd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    struct epoll_event event = {0};
    event.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    event.data.fd = s;
    if (socketp != NULL) {
        if (epoll_ctl(driver->epoll_fd, EPOLL_CTL_MOD, s, &event) == 0 || errno != ENOENT) return 0;
    }
    if (epoll_ctl(driver->epoll_fd, EPOLL_CTL_ADD, s, &event) != 0 && errno == EEXIST) {
        epoll_ctl(driver->epoll_fd, EPOLL_CTL_MOD, s, &event);
    }
    curl_multi_assign(driver->multi, s, (void *)1); /* mark as registered */
    return 0;
}

/* libcurl: call curl_multi_socket_action(CURL_SOCKET_TIMEOUT) in timeout_ms (-1: never). */
static int timer_callback(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    batch_curl_driver *driver = userp;
    driver->timer_deadline_ms = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    return 0;
}

int batch_curl_driver_open(batch_curl_driver *driver, CURLM *multi) {
    driver->multi = multi;
    driver->timer_deadline_ms = -1;
    driver->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (driver->epoll_fd < 0) return -1;
    driver->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (driver->wake_fd < 0) {
        close(driver->epoll_fd);
        return -1;
    }
    struct epoll_event event = {0};
    event.events = EPOLLIN;
    event.data.fd = driver->wake_fd;
    if (epoll_ctl(driver->epoll_fd, EPOLL_CTL_ADD, driver->wake_fd, &event) != 0) {
        close(driver->wake_fd);
        close(driver->epoll_fd);
        return -1;
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_callback);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, driver);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_callback);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, driver);
    return 0;
}

void batch_curl_driver_close(batch_curl_driver *driver) {
    close(driver->wake_fd);
    close(driver->epoll_fd);
}

void batch_curl_driver_wake(batch_curl_driver *driver) {
    uint64_t one = 1;
    ssize_t written;
    do { written = write(driver->wake_fd, &one, sizeof one); } while (written < 0 && errno == EINTR);
}

void batch_curl_driver_run_once(batch_curl_driver *driver, int max_wait_ms) {
    int timeout = max_wait_ms;
    if (driver->timer_deadline_ms >= 0) {
        long long remaining = driver->timer_deadline_ms - monotonic_ms();
        if (remaining < 0) remaining = 0;
        if (remaining < timeout) timeout = (int)remaining;
    }
    struct epoll_event events[256];
    int count = epoll_wait(driver->epoll_fd, events, 256, timeout);
    int running = 0;
    for (int i = 0; i < count; i++) {
        int fd = events[i].data.fd;
        if (fd == driver->wake_fd) {
            uint64_t value;
            while (read(driver->wake_fd, &value, sizeof value) > 0) {}
            continue;
        }
        int flags = 0;
        if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(driver->multi, fd, flags, &running);
    }
    if (driver->timer_deadline_ms >= 0 && monotonic_ms() >= driver->timer_deadline_ms) {
        driver->timer_deadline_ms = -1;
        curl_multi_socket_action(driver->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

#else /* not Linux: libcurl's own poll loop */

int batch_curl_driver_open(batch_curl_driver *driver, CURLM *multi) {
    driver->multi = multi;
    driver->epoll_fd = -1;
    driver->wake_fd = -1;
    driver->timer_deadline_ms = -1;
    return 0;
}

void batch_curl_driver_close(batch_curl_driver *driver) { (void)driver; }

void batch_curl_driver_wake(batch_curl_driver *driver) { curl_multi_wakeup(driver->multi); }

void batch_curl_driver_run_once(batch_curl_driver *driver, int max_wait_ms) {
    int running = 0;
    curl_multi_perform(driver->multi, &running);
    curl_multi_poll(driver->multi, NULL, 0, max_wait_ms, NULL);
    curl_multi_perform(driver->multi, &running);
}

#endif
