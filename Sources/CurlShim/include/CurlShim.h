#ifndef CURL_SHIM_H
#define CURL_SHIM_H

#include <curl/curl.h>
#include <stddef.h>

/*
 * Typed wrappers over libcurl's variadic calls (curl_easy_setopt, curl_easy_getinfo,
 * curl_multi_setopt), which Swift cannot call directly. Each wrapper passes exactly the
 * argument type the option expects, so a wrong type is a compile error, not a crash.
 */

/* The callback libcurl calls with response body bytes and with each header line. */
typedef size_t (*batch_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);

CURLcode batch_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode batch_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode batch_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode batch_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode batch_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode batch_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, batch_curl_data_callback callback);

CURLcode batch_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode batch_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

CURLMcode batch_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* Connection life-cycle callbacks: the transport counts connections and handshakes with them. */
CURLcode batch_curl_easy_setopt_opensocket(CURL *handle, curl_opensocket_callback callback);
CURLcode batch_curl_easy_setopt_closesocket(CURL *handle, curl_closesocket_callback callback);
CURLcode batch_curl_easy_setopt_prereq(CURL *handle, curl_prereq_callback callback);
/* Rewinds a request body that libcurl reads through CURLOPT_READFUNCTION (to send it again). */
CURLcode batch_curl_easy_setopt_seek(CURL *handle, curl_seek_callback callback);

/* A share object holding the TLS session cache, so every connection of the process can resume
   a session (libcurl keeps sessions per easy handle otherwise). */
CURLSH *batch_curl_share_ssl_sessions(void);

/*
 * The event loop's I/O wait, in C because it is all system calls.
 *
 * On Linux it drives libcurl with curl_multi_socket_action over epoll: libcurl tells us which
 * sockets to watch (socket callback) and when to time out (timer callback), and each wake-up
 * processes only the sockets that are ready, so the cost per request does not grow with the
 * number of transfers in flight. An eventfd wakes the loop for new submissions.
 * Elsewhere it falls back to curl_multi_perform + curl_multi_poll + curl_multi_wakeup.
 *
 * Only batch_curl_driver_wake may be called from another thread.
 */
typedef struct batch_curl_driver {
    CURLM *multi;
    int epoll_fd;
    int wake_fd;
    long long timer_deadline_ms; /* CLOCK_MONOTONIC milliseconds; -1: no timer */
} batch_curl_driver;

/* Sets up the driver for `multi` (installs libcurl's socket and timer callbacks). 0 on success. */
int batch_curl_driver_open(batch_curl_driver *driver, CURLM *multi);
/* Releases the driver's file descriptors (call after the last run_once). */
void batch_curl_driver_close(batch_curl_driver *driver);
/* Wakes a run_once that is waiting. Safe from any thread. */
void batch_curl_driver_wake(batch_curl_driver *driver);
/* Waits at most max_wait_ms for socket activity, a libcurl timeout or a wake-up, and lets libcurl
   act on what happened. Completed transfers are then read with curl_multi_info_read. */
void batch_curl_driver_run_once(batch_curl_driver *driver, int max_wait_ms);

/* Constants that Swift imports awkwardly (macros with casts, or values whose type varies). */
static const long batch_curl_http_version_2tls = CURL_HTTP_VERSION_2TLS;
static const long batch_curl_http_version_1_1 = CURL_HTTP_VERSION_1_1;
static const long batch_curl_pipe_multiplex = CURLPIPE_MULTIPLEX;
static const long batch_curl_global_all = CURL_GLOBAL_ALL;
static const int batch_curl_error_size = CURL_ERROR_SIZE;
static const curl_socket_t batch_curl_socket_bad = CURL_SOCKET_BAD;
static const int batch_curl_prereqfunc_ok = CURL_PREREQFUNC_OK;
static const int batch_curl_seekfunc_ok = CURL_SEEKFUNC_OK;
static const int batch_curl_seekfunc_cantseek = CURL_SEEKFUNC_CANTSEEK;

#endif
