
       01  MIXED-REC.
           05  MX-KIND             PIC X.
           05  MX-DATE             PIC 9(8).
           05  MX-DATE-PARTS       REDEFINES MX-DATE.
               10  MX-YEAR         PIC 9(4).
               10  MX-MONTH        PIC 99.
               10  MX-DAY          PIC 99.
           05  MX-RAW              PIC X(6).
           05  MX-RAW-NUM          REDEFINES MX-RAW.
               10  MX-RAW-PK       PIC S9(5) COMP-3.
               10  MX-RAW-BIN      PIC S9(4) COMP.
               10  FILLER          PIC X.
           05  MX-TRAIL            PIC S9(5)V99.
           05  MX-LEAD             PIC S9(3) SIGN LEADING.
           05  MX-LSEP             PIC S9(3)V9 SIGN LEADING SEPARATE.
           05  MX-TSEP PIC S99 SIGN IS TRAILING SEPARATE CHARACTER.
           05  MX-UPK              PIC 9(4) COMP-3.
           05  MX-C5               PIC S9(9) COMP-5.
           05  MX-UBIN             PIC 9(18) BINARY.
           05  MX-F1               COMP-1.
           05  MX-F2               COMP-2.
           05  MX-JUST             PIC X(5) JUSTIFIED RIGHT.
           05  MX-BWZ              PIC 9(3) BLANK WHEN ZERO.
           05  FILLER              PIC X(3) VALUE 'END'.
           05  MX-CNT              PIC S9(3) COMP-3.
           05  MX-ROW              OCCURS 0 TO 4 TIMES
                                   DEPENDING ON MX-CNT.
               10  MX-CODE         PIC XX.
               10  MX-AMT          PIC S9(5)V99 COMP-3.
               10  MX-SUB          PIC 9 OCCURS 2.
           05  MX-AFTER.
               10  MX-N            PIC 9.
               10  MX-INNER        PIC X(2) OCCURS 1 TO 3
                                   DEPENDING ON MX-N.
           05  MX-TAIL             PIC X(4).
