/**
 * A minimal vim25 WSDL: only the operations and types of the session calls the inventory reader
 * makes through `soap`. The property-collector pages, RetrievePropertiesEx and its continuations,
 * go around `soap` (retrieve-request.ts, retrieve-response.ts) so they can be parsed as they stream.
 *
 * vcsim serves no WSDL and a real vCenter's (vimService.wsdl + vim.wsdl + several XSDs, tens of
 * MB) takes `soap` a long time to parse, so we keep our own. Names, element order and namespaces
 * follow VMware's vim.wsdl, so the envelopes are what a real vCenter expects. It is a string
 * module rather than a file so a bundled single executable carries it without file reads.
 *
 * Types are declared flat (no DynamicData base) because nothing here reads `dynamicType` or
 * `dynamicProperty`.
 */

/** The API namespace version we speak; every vCenter 6.5 and later accepts it. */
export const VIM25_VERSION = '6.5';

export const VIM25_WSDL = `<?xml version="1.0" encoding="UTF-8"?>
<definitions targetNamespace="urn:vim25"
  xmlns="http://schemas.xmlsoap.org/wsdl/"
  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:vim25="urn:vim25"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <types>
    <schema targetNamespace="urn:vim25" xmlns="http://www.w3.org/2001/XMLSchema"
      xmlns:vim25="urn:vim25" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
      elementFormDefault="qualified">

      <complexType name="ManagedObjectReference">
        <simpleContent>
          <extension base="xsd:string">
            <attribute name="type" type="xsd:string"/>
          </extension>
        </simpleContent>
      </complexType>
      <complexType name="ArrayOfManagedObjectReference">
        <sequence>
          <element name="ManagedObjectReference" type="vim25:ManagedObjectReference" minOccurs="0" maxOccurs="unbounded"/>
        </sequence>
      </complexType>
      <complexType name="ArrayOfString">
        <sequence>
          <element name="string" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>
        </sequence>
      </complexType>

      <complexType name="AboutInfo">
        <sequence>
          <element name="name" type="xsd:string"/>
          <element name="fullName" type="xsd:string"/>
          <element name="vendor" type="xsd:string"/>
          <element name="version" type="xsd:string"/>
          <element name="build" type="xsd:string"/>
          <element name="localeVersion" type="xsd:string" minOccurs="0"/>
          <element name="localeBuild" type="xsd:string" minOccurs="0"/>
          <element name="osType" type="xsd:string"/>
          <element name="productLineId" type="xsd:string"/>
          <element name="apiType" type="xsd:string"/>
          <element name="apiVersion" type="xsd:string"/>
          <element name="instanceUuid" type="xsd:string" minOccurs="0"/>
        </sequence>
      </complexType>
      <complexType name="ServiceContent">
        <sequence>
          <element name="rootFolder" type="vim25:ManagedObjectReference"/>
          <element name="propertyCollector" type="vim25:ManagedObjectReference"/>
          <element name="viewManager" type="vim25:ManagedObjectReference" minOccurs="0"/>
          <element name="about" type="vim25:AboutInfo"/>
          <element name="setting" type="vim25:ManagedObjectReference" minOccurs="0"/>
          <element name="userDirectory" type="vim25:ManagedObjectReference" minOccurs="0"/>
          <element name="sessionManager" type="vim25:ManagedObjectReference" minOccurs="0"/>
          <element name="searchIndex" type="vim25:ManagedObjectReference" minOccurs="0"/>
        </sequence>
      </complexType>
      <complexType name="UserSession">
        <sequence>
          <element name="key" type="xsd:string"/>
          <element name="userName" type="xsd:string"/>
          <element name="fullName" type="xsd:string"/>
        </sequence>
      </complexType>

      <complexType name="LocalizedMethodFault">
        <sequence>
          <element name="fault" type="vim25:MethodFault"/>
          <element name="localizedMessage" type="xsd:string" minOccurs="0"/>
        </sequence>
      </complexType>
      <complexType name="MethodFault">
        <sequence>
          <element name="faultCause" type="vim25:LocalizedMethodFault" minOccurs="0"/>
        </sequence>
      </complexType>
      <complexType name="RuntimeFault">
        <complexContent><extension base="vim25:MethodFault"><sequence/></extension></complexContent>
      </complexType>
      <complexType name="VimFault">
        <complexContent><extension base="vim25:MethodFault"><sequence/></extension></complexContent>
      </complexType>
      <complexType name="InvalidProperty">
        <complexContent>
          <extension base="vim25:MethodFault">
            <sequence><element name="name" type="xsd:string"/></sequence>
          </extension>
        </complexContent>
      </complexType>
      <complexType name="InvalidLogin">
        <complexContent><extension base="vim25:VimFault"><sequence/></extension></complexContent>
      </complexType>
      <complexType name="InvalidLocale">
        <complexContent><extension base="vim25:VimFault"><sequence/></extension></complexContent>
      </complexType>
      <complexType name="NotAuthenticated">
        <complexContent>
          <extension base="vim25:RuntimeFault">
            <sequence>
              <element name="object" type="vim25:ManagedObjectReference"/>
              <element name="privilegeId" type="xsd:string"/>
            </sequence>
          </extension>
        </complexContent>
      </complexType>
      <complexType name="ManagedObjectNotFound">
        <complexContent>
          <extension base="vim25:RuntimeFault">
            <sequence><element name="obj" type="vim25:ManagedObjectReference"/></sequence>
          </extension>
        </complexContent>
      </complexType>

      <element name="RuntimeFaultFault" type="vim25:RuntimeFault"/>
      <element name="InvalidPropertyFault" type="vim25:InvalidProperty"/>
      <element name="InvalidLoginFault" type="vim25:InvalidLogin"/>
      <element name="InvalidLocaleFault" type="vim25:InvalidLocale"/>

      <complexType name="RetrieveServiceContentRequestType">
        <sequence><element name="_this" type="vim25:ManagedObjectReference"/></sequence>
      </complexType>
      <element name="RetrieveServiceContent" type="vim25:RetrieveServiceContentRequestType"/>
      <element name="RetrieveServiceContentResponse">
        <complexType><sequence><element name="returnval" type="vim25:ServiceContent"/></sequence></complexType>
      </element>

      <complexType name="LoginRequestType">
        <sequence>
          <element name="_this" type="vim25:ManagedObjectReference"/>
          <element name="userName" type="xsd:string"/>
          <element name="password" type="xsd:string"/>
          <element name="locale" type="xsd:string" minOccurs="0"/>
        </sequence>
      </complexType>
      <element name="Login" type="vim25:LoginRequestType"/>
      <element name="LoginResponse">
        <complexType><sequence><element name="returnval" type="vim25:UserSession"/></sequence></complexType>
      </element>

      <complexType name="LogoutRequestType">
        <sequence><element name="_this" type="vim25:ManagedObjectReference"/></sequence>
      </complexType>
      <element name="Logout" type="vim25:LogoutRequestType"/>
      <element name="LogoutResponse"><complexType/></element>

      <complexType name="CreateContainerViewRequestType">
        <sequence>
          <element name="_this" type="vim25:ManagedObjectReference"/>
          <element name="container" type="vim25:ManagedObjectReference"/>
          <element name="type" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>
          <element name="recursive" type="xsd:boolean"/>
        </sequence>
      </complexType>
      <element name="CreateContainerView" type="vim25:CreateContainerViewRequestType"/>
      <element name="CreateContainerViewResponse">
        <complexType><sequence><element name="returnval" type="vim25:ManagedObjectReference"/></sequence></complexType>
      </element>

      <complexType name="DestroyViewRequestType">
        <sequence><element name="_this" type="vim25:ManagedObjectReference"/></sequence>
      </complexType>
      <element name="DestroyView" type="vim25:DestroyViewRequestType"/>
      <element name="DestroyViewResponse"><complexType/></element>

      <complexType name="CancelRetrievePropertiesExRequestType">
        <sequence>
          <element name="_this" type="vim25:ManagedObjectReference"/>
          <element name="token" type="xsd:string"/>
        </sequence>
      </complexType>
      <element name="CancelRetrievePropertiesEx" type="vim25:CancelRetrievePropertiesExRequestType"/>
      <element name="CancelRetrievePropertiesExResponse"><complexType/></element>
    </schema>
  </types>

  <message name="RuntimeFaultFaultMsg"><part name="fault" element="vim25:RuntimeFaultFault"/></message>
  <message name="InvalidPropertyFaultMsg"><part name="fault" element="vim25:InvalidPropertyFault"/></message>
  <message name="InvalidLoginFaultMsg"><part name="fault" element="vim25:InvalidLoginFault"/></message>
  <message name="InvalidLocaleFaultMsg"><part name="fault" element="vim25:InvalidLocaleFault"/></message>

  <message name="RetrieveServiceContentRequestMsg"><part name="parameters" element="vim25:RetrieveServiceContent"/></message>
  <message name="RetrieveServiceContentResponseMsg"><part name="parameters" element="vim25:RetrieveServiceContentResponse"/></message>
  <message name="LoginRequestMsg"><part name="parameters" element="vim25:Login"/></message>
  <message name="LoginResponseMsg"><part name="parameters" element="vim25:LoginResponse"/></message>
  <message name="LogoutRequestMsg"><part name="parameters" element="vim25:Logout"/></message>
  <message name="LogoutResponseMsg"><part name="parameters" element="vim25:LogoutResponse"/></message>
  <message name="CreateContainerViewRequestMsg"><part name="parameters" element="vim25:CreateContainerView"/></message>
  <message name="CreateContainerViewResponseMsg"><part name="parameters" element="vim25:CreateContainerViewResponse"/></message>
  <message name="DestroyViewRequestMsg"><part name="parameters" element="vim25:DestroyView"/></message>
  <message name="DestroyViewResponseMsg"><part name="parameters" element="vim25:DestroyViewResponse"/></message>
  <message name="CancelRetrievePropertiesExRequestMsg"><part name="parameters" element="vim25:CancelRetrievePropertiesEx"/></message>
  <message name="CancelRetrievePropertiesExResponseMsg"><part name="parameters" element="vim25:CancelRetrievePropertiesExResponse"/></message>

  <portType name="VimPortType">
    <operation name="RetrieveServiceContent">
      <input message="vim25:RetrieveServiceContentRequestMsg"/>
      <output message="vim25:RetrieveServiceContentResponseMsg"/>
      <fault name="RuntimeFault" message="vim25:RuntimeFaultFaultMsg"/>
    </operation>
    <operation name="Login">
      <input message="vim25:LoginRequestMsg"/>
      <output message="vim25:LoginResponseMsg"/>
      <fault name="InvalidLoginFault" message="vim25:InvalidLoginFaultMsg"/>
      <fault name="InvalidLocaleFault" message="vim25:InvalidLocaleFaultMsg"/>
      <fault name="RuntimeFault" message="vim25:RuntimeFaultFaultMsg"/>
    </operation>
    <operation name="Logout">
      <input message="vim25:LogoutRequestMsg"/>
      <output message="vim25:LogoutResponseMsg"/>
      <fault name="RuntimeFault" message="vim25:RuntimeFaultFaultMsg"/>
    </operation>
    <operation name="CreateContainerView">
      <input message="vim25:CreateContainerViewRequestMsg"/>
      <output message="vim25:CreateContainerViewResponseMsg"/>
      <fault name="RuntimeFault" message="vim25:RuntimeFaultFaultMsg"/>
    </operation>
    <operation name="DestroyView">
      <input message="vim25:DestroyViewRequestMsg"/>
      <output message="vim25:DestroyViewResponseMsg"/>
      <fault name="RuntimeFault" message="vim25:RuntimeFaultFaultMsg"/>
    </operation>
    <operation name="CancelRetrievePropertiesEx">
      <input message="vim25:CancelRetrievePropertiesExRequestMsg"/>
      <output message="vim25:CancelRetrievePropertiesExResponseMsg"/>
      <fault name="InvalidPropertyFault" message="vim25:InvalidPropertyFaultMsg"/>
      <fault name="RuntimeFault" message="vim25:RuntimeFaultFaultMsg"/>
    </operation>
  </portType>

  <binding name="VimBinding" type="vim25:VimPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
${['RetrieveServiceContent', 'Login', 'Logout', 'CreateContainerView', 'DestroyView', 'CancelRetrievePropertiesEx']
  .map(
    (op) => `    <operation name="${op}">
      <soap:operation soapAction="urn:vim25/${VIM25_VERSION}"/>
      <input><soap:body use="literal"/></input>
      <output><soap:body use="literal"/></output>
    </operation>`,
  )
  .join('\n')}
  </binding>

  <service name="VimService">
    <port name="VimPort" binding="vim25:VimBinding">
      <soap:address location="https://localhost/sdk"/>
    </port>
  </service>
</definitions>
`;
