#ifndef CURL_SHIM_H
#define CURL_SHIM_H
#include <curl/curl.h>
/* Placeholder; typed setters are added with the provider client (issue 4). */
#endif
