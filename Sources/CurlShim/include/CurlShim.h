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
CURLcode batch_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode batch_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* Constants that Swift imports awkwardly (macros with casts, or values whose type varies). */
static const long batch_curl_http_version_2tls = CURL_HTTP_VERSION_2TLS;
static const long batch_curl_pipe_multiplex = CURLPIPE_MULTIPLEX;
static const long batch_curl_global_all = CURL_GLOBAL_ALL;
static const int batch_curl_error_size = CURL_ERROR_SIZE;

#endif
