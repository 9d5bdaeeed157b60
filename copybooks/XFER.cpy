      *================================================================*
      * XFER     - TRANSFER BETWEEN ACCOUNTS: BODY AFTER COMM-HDR       *
      *================================================================*
       01  XFER-REQ.
           05  FROM-ACCT               PIC X(16).
           05  TO-ACCT                 PIC X(16).
           05  AMOUNT                  PIC S9(11)V99 COMP-3.
           05  MEMO                    PIC X(20).
      *
       01  XFER-RESP.
           05  FROM-ACCT               PIC X(16).
           05  FROM-BAL-AFTER          PIC S9(13)V99 COMP-3.
           05  XFER-REF                PIC X(20).
