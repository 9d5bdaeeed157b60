      *================================================================*
      * COMMHDR  - COMMON HEADER (공통부) OF EVERY CHANNEL MESSAGE       *
      *            85 BYTES, EBCDIC. HDR-MSG-LEN IS THE WHOLE MESSAGE.  *
      *================================================================*
       01  COMM-HDR.
           05  HDR-MSG-LEN             PIC 9(6).
           05  HDR-TRAN-CODE           PIC X(8).
           05  HDR-CHANNEL             PIC X(3).
               88  HDR-CH-INTERNET     VALUE 'IBK'.
               88  HDR-CH-MOBILE       VALUE 'MBK'.
               88  HDR-CH-ATM          VALUE 'ATM'.
               88  HDR-CH-TELLER       VALUE 'TLR'.
           05  HDR-SEQ-NO              PIC 9(10).
           05  HDR-TIMESTAMP           PIC 9(14).
           05  HDR-RESP-CODE           PIC X(4).
               88  HDR-RESP-OK         VALUE '0000'.
           05  HDR-RESP-MSG            PIC X(40).
