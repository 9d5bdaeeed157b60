      *================================================================*
      * XFERCAN  - CANCEL (취소) A TRANSFER: BODY AFTER COMM-HDR        *
      *            ONLY THE SYSTEM THAT POSTED THE XFER CAN CANCEL IT  *
      *================================================================*
       01  XFERCAN-REQ.
           05  ORG-SEQ-NO              PIC 9(10).
           05  FROM-ACCT               PIC X(16).
           05  AMOUNT                  PIC S9(11)V99 COMP-3.
      *
       01  XFERCAN-RESP.
           05  FROM-ACCT               PIC X(16).
           05  FROM-BAL-AFTER          PIC S9(13)V99 COMP-3.
           05  CAN-REF                 PIC X(20).
