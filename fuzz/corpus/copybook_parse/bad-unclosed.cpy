       01  BROKEN.
           05  A PIC X(5
           05  B OCCURS 0 TO 5 DEPENDING ON.
