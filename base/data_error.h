// The error every loader, parser and file operation of gnnrec throws for
// input it cannot use (a malformed line, a missing or unwritable file).
// Torch-free.
#pragma once

#include <stdexcept>

namespace gnnrec {

// Thrown for any malformed or unusable input. what() is one line that names
// the place: "ratings.dat:1042: expected 4 fields separated by '::', got 3".
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gnnrec
