/* version.h - the release version, shared by logshipd, logship and the library. */
#ifndef LOGSHIP_VERSION_H
#define LOGSHIP_VERSION_H
#define LOGSHIP_VERSION "0.1.0"
#endif
