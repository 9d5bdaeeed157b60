      *================================================================*
      * LEDGWS   - WORKING STORAGE EVERY LEDGER PROGRAM SHARES: FILE   *
      *            STATUSES, THE TIME OF THE MESSAGE AND ITS REPLY.    *
      *================================================================*
       01  FS-ACCOUNTS                 PIC XX.
       01  FS-TXNS                     PIC XX.
       01  FS-CONTROL                  PIC XX.
       01  WS-NOW.
           05  WS-NOW-DATE             PIC 9(8).
           05  WS-NOW-TIME             PIC 9(6).
       01  WS-NOW-STAMP REDEFINES WS-NOW PIC 9(14).
       01  WS-RESP-CODE                PIC X(4).
       01  WS-RESP-MSG                 PIC X(40).
       01  WS-BODY-LEN                 PIC S9(8) COMP.
       01  WS-HDR-LEN                  PIC S9(8) COMP.
